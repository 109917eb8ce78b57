"""What the moderation pages read, a fixed number of queries per page whatever its length."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Case, Count, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, NullIf

from townsquare.community.models import Interaction
from townsquare.front import queries as front_queries
from townsquare.listening.pipeline import TEXT_KINDS
from townsquare.moderation.models import (
    MessageTag,
    ModerationAction,
    ModerationActionKind,
    ModerationItem,
    ModerationStatus,
    WatchedWord,
)


def pending_count() -> int:
    return ModerationItem.objects.filter(status=ModerationStatus.PENDING).count()


def queue(*, kind: str = "", status: str = "", channel: Any = None) -> QuerySet[ModerationItem]:
    """Flagged messages: pending first (those requiring review first), then escalated, then
    the decided; newest message first."""
    items = ModerationItem.objects.select_related(
        "decided_by",
        "interaction__source",
        "interaction__channel",
        "interaction__conversation",
        "interaction__member",
        "interaction__identity",
        "interaction__enrichment",
    )
    if kind:
        items = items.filter(kinds__contains=kind)
    if status:
        items = items.filter(status=status)
    if channel is not None:
        items = items.filter(interaction__channel=channel)
    rank = Case(
        When(status=ModerationStatus.PENDING, then=Value(0)),
        When(status=ModerationStatus.ESCALATED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return items.annotate(rank=rank).order_by(
        "rank", "-requires_review", "-interaction__created_at", "-id"
    )


def context_ids(message_ids: Iterable[int]) -> dict[int, int]:
    """Message id -> the message shown above it: the one it replies to, or else the one before
    it in its conversation, or else in its channel. One query, for these messages only."""
    earlier = Interaction.objects.filter(
        created_at__lt=OuterRef("created_at"), kind__in=TEXT_KINDS
    ).order_by("-created_at", "-id")
    in_conversation = earlier.filter(conversation_id=OuterRef("conversation_id"))
    in_channel = earlier.filter(channel_id=OuterRef("channel_id"))
    rows = (
        Interaction.objects.filter(pk__in=list(message_ids))
        .annotate(
            context_id=Coalesce(
                # The first message of a thread is often its own "parent" in platforms' data.
                NullIf("parent_id", "id"),
                Subquery(in_conversation.values("id")[:1]),
                # A chat message that starts a thread is a conversation of its own.
                Subquery(in_channel.values("id")[:1]),
            )
        )
        .values_list("id", "context_id")
    )
    return {pk: context_id for pk, context_id in rows if context_id is not None}


def prepare_page(items: Iterable[ModerationItem]) -> None:
    """Give each item its `context` message and `tags`, an escalated item its `escalation` (the
    audit entry that escalated it: who and why), and its message the labels and named mentions
    the page shows: a few queries for the whole page, whatever its length."""
    rows = list(items)
    if not rows:
        return
    above = context_ids(item.interaction_id for item in rows)
    contexts = (
        Interaction.objects.select_related("member", "moderation").in_bulk(set(above.values()))
        if above
        else {}
    )
    tags: dict[int, list[str]] = defaultdict(list)
    for interaction_id, tag in (
        MessageTag.objects.filter(interaction_id__in=[item.interaction_id for item in rows])
        .order_by("word__tag")
        .values_list("interaction_id", "word__tag")
    ):
        if tag not in tags[interaction_id]:
            tags[interaction_id].append(tag)
    messages = [item.interaction for item in rows]
    front_queries.name_mentions([*messages, *contexts.values()])
    front_queries.attach_labels(messages)
    escalations = _escalations(
        [item.pk for item in rows if item.status == ModerationStatus.ESCALATED]
    )
    for item in rows:
        item.escalation = escalations.get(item.pk)  # type: ignore[attr-defined]
        context_id = above.get(item.interaction_id)
        item.context = contexts.get(context_id) if context_id else None  # type: ignore[attr-defined]
        item.tags = tags[item.interaction_id]  # type: ignore[attr-defined]


def _escalations(item_ids: list[int]) -> dict[int, ModerationAction]:
    """Item id -> its latest escalation: one query, none when no item is escalated."""
    if not item_ids:
        return {}
    latest: dict[int, ModerationAction] = {}
    for entry in (
        ModerationAction.objects.filter(item_id__in=item_ids, action=ModerationActionKind.ESCALATE)
        .select_related("actor")
        .order_by("-at", "-id")
    ):
        if entry.item_id is not None:
            latest.setdefault(entry.item_id, entry)
    return latest


def audit_log(*, actor: Any = None, action: str = "") -> QuerySet[ModerationAction]:
    """Every decision, newest first, with what the log shows of its message."""
    entries = ModerationAction.objects.select_related(
        "actor", "item__interaction__member", "item__interaction__conversation"
    )
    if actor is not None:
        entries = entries.filter(actor=actor)
    if action:
        entries = entries.filter(action=action)
    return entries.order_by("-at", "-id")


def watched_words() -> QuerySet[WatchedWord]:
    """Every watched word with who added it and how many messages it tagged, active first."""
    return (
        WatchedWord.objects.select_related("created_by")
        .annotate(tagged_count=Count("tagged"))
        .order_by("-is_active", "term", "id")
    )
