"""Interactions: what members did, newest first, with the labels the analyzers found (as people
corrected them). A message a moderator hid keeps its text and labels for moderators only."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import ExpressionWrapper, F, IntegerField, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.errors import HttpError, ValidationError
from ninja.params import P, PathEx
from pydantic import Field

from townsquare.api.convert import interaction_out
from townsquare.api.params import MAX_ID, NO_NUL, AwareTime, Id, Pagination, acting_user
from townsquare.api.schemas import ErrorOut, InteractionOut, InteractionPage
from townsquare.community.models import Interaction, InteractionKind
from townsquare.community.text_search import containing
from townsquare.front.access import can_moderate
from townsquare.front.queries import attach_labels, labelled_interactions
from townsquare.listening.models import SentimentLabel

router = Router(tags=["interactions"])
InteractionId = PathEx[int, P(ge=1, le=MAX_ID)]
# Filters that are not in an index are checked row by row, and a common word's matches in the
# text index are many: without a member or a conversation (whose indexes bound the rows read),
# they need a time window at most this long.
MAX_WINDOW = timedelta(days=31)
SENTIMENTS = [s.value for s in SentimentLabel if s.value]


class InteractionFilters(Schema):
    member: Id | None = Field(None, description="A member's id: what they did.")
    conversation: Id | None = Field(None, description="A conversation's id: its interactions.")
    source: Id | None = Field(None, description="A source's id.")
    channel: Id | None = Field(None, description="A channel's id.")
    kind: InteractionKind | None = None
    since: AwareTime | None = Field(None, description="Happened at or after this time.")
    until: AwareTime | None = Field(None, description="Happened before this time.")
    language: str | None = Field(
        None, max_length=8, pattern=NO_NUL, description="A language code (ISO 639-1): en, fr…"
    )
    sentiment: SentimentLabel | None = Field(
        None, description="The sentiment label: " + ", ".join(SENTIMENTS) + "."
    )
    is_question: bool | None = None
    text: str | None = Field(
        None,
        min_length=2,
        max_length=200,
        pattern=NO_NUL,
        description="Part of the text, in any letter case.",
    )

    def row_filters(self) -> list[str]:
        """The filters given that no index serves."""
        names = ("source", "channel", "kind", "language", "sentiment", "is_question", "text")
        return [name for name in names if getattr(self, name) not in (None, "")]


def _refuse(name: str, message: str) -> ValidationError:
    return ValidationError([{"type": "value_error", "loc": ["query", name], "msg": message}])


def _check_window(f: InteractionFilters, now: datetime) -> None:
    if f.since is not None and f.until is not None and f.since >= f.until:
        raise _refuse("since", "Expected a time before until.")
    unindexed = f.row_filters()
    if not unindexed or f.member is not None or f.conversation is not None:
        return
    end = f.until or now
    if f.since is None or end - f.since > MAX_WINDOW:
        raise _refuse(
            unindexed[0],
            f"Filtering by {', '.join(unindexed)} needs a member, a conversation, or since and "
            f"until (default: now) at most {MAX_WINDOW.days} days apart.",
        )


def _unindexed(column: str) -> ExpressionWrapper[Any]:
    """The column as an expression no index serves, so that the rows are found through the
    member, conversation or time index, which the window rule bounds. (SQLite, which keeps no
    statistics, would otherwise walk a busy channel's whole index for a few days of it.)"""
    return ExpressionWrapper(F(column) + 0, output_field=IntegerField())


def filter_interactions(f: InteractionFilters, *, sees_hidden: bool) -> QuerySet[Interaction]:
    """The interactions the filters choose, newest first. For a reader who may not see hidden
    messages, a filter on their text or labels never matches them, so it cannot tell what a
    hidden message says."""
    qs = Interaction.objects.all()
    if f.member is not None:
        qs = qs.filter(member_id=f.member)
    if f.conversation is not None:
        qs = qs.filter(conversation_id=f.conversation)
    if f.source is not None:
        qs = qs.alias(in_source=_unindexed("source_id")).filter(in_source=f.source)
    if f.channel is not None:
        qs = qs.alias(in_channel=_unindexed("channel_id")).filter(in_channel=f.channel)
    if f.kind is not None:
        qs = qs.filter(kind=f.kind)
    if f.since is not None:
        qs = qs.filter(created_at__gte=f.since)
    if f.until is not None:
        qs = qs.filter(created_at__lt=f.until)
    labels = Q()
    if f.language:
        labels &= Q(enrichment__language=f.language.strip().lower())
    if f.sentiment is not None:
        labels &= Q(enrichment__sentiment_label=f.sentiment)
    if f.is_question is not None:
        labels &= Q(enrichment__is_question=f.is_question, enrichment__analyzed=True)
    if f.text:
        # The member list's text search: the text index, and any letter case on both engines.
        labels &= containing(f.text)
    if labels:
        qs = qs.filter(labels)
        if not sees_hidden:
            qs = qs.exclude(moderation__is_hidden=True)
    return qs.order_by("-created_at", "-id")


def interaction_page(
    interactions: QuerySet[Interaction], page: Pagination, *, sees_hidden: bool
) -> InteractionPage:
    """A page of the (ordered) interactions with their labels. The page's ids come first, from
    the index alone, then those rows with their joins: an offset would otherwise read every
    skipped row's joins (as the member timeline does)."""
    ids = interactions.values("pk")[page.offset : page.offset + page.limit]
    rows = labelled_interactions().select_related("moderation").filter(pk__in=ids)
    window = list(rows.order_by(*interactions.query.order_by))
    attach_labels(window)
    return InteractionPage(
        count=interactions.count(),
        limit=page.limit,
        offset=page.offset,
        items=[interaction_out(i, sees_hidden=sees_hidden) for i in window],
    )


@router.get(
    "/interactions",
    response={200: InteractionPage, 422: ErrorOut},
    summary="List interactions",
)
def list_interactions(
    request: HttpRequest, filters: Query[InteractionFilters], page: Query[Pagination]
) -> InteractionPage:
    """Newest first. `since` is included, `until` excluded. Filters an index cannot serve
    (source, channel, kind, language, sentiment, is_question, text) need `member`,
    `conversation`, or `since` and `until` at most 31 days apart: walk longer spans window by
    window."""
    user = acting_user(request)
    _check_window(filters, timezone.now())
    sees_hidden = can_moderate(user)
    return interaction_page(
        filter_interactions(filters, sees_hidden=sees_hidden), page, sees_hidden=sees_hidden
    )


@router.get(
    "/interactions/{interaction_id}",
    response={200: InteractionOut, 404: ErrorOut},
    summary="Get an interaction",
)
def get_interaction(request: HttpRequest, interaction_id: InteractionId) -> InteractionOut:
    """With its labels: language, sentiment, question, gratitude, emotion, toxicity and spam,
    keywords and tracked terms, and who corrected which."""
    user = acting_user(request)
    found = labelled_interactions().select_related("moderation").filter(pk=interaction_id).first()
    if found is None:
        raise HttpError(404, f"No interaction #{interaction_id}.")
    attach_labels([found])
    return interaction_out(found, sees_hidden=can_moderate(user))
