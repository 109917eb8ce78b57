"""Conversations: threads, topics, questions and issues, with the inbox's state of each (who
opened it, whether anyone answered, who claimed it) and their messages."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError, ValidationError
from ninja.params import P, PathEx
from pydantic import Field

from townsquare.api.convert import conversation_out
from townsquare.api.params import MAX_ID, AwareTime, Id, Pagination, acting_user
from townsquare.api.routers.interactions import interaction_page
from townsquare.api.schemas import ConversationDetailOut, ConversationPage, ErrorOut
from townsquare.community.models import Conversation, Interaction, InteractionKind
from townsquare.front.access import can_moderate
from townsquare.moderation.models import ModerationItem

router = Router(tags=["conversations"])
ConversationId = PathEx[int, P(ge=1, le=MAX_ID)]


class ConversationFilters(Schema):
    source: Id | None = Field(None, description="A source's id.")
    channel: Id | None = Field(None, description="A channel's id.")
    awaiting_reply: bool | None = Field(
        None,
        description="Awaiting a reply from anyone but the opener, and not marked answered "
        "(docs/metrics.md, “Unanswered”); false: every other conversation.",
    )
    claimed: bool | None = Field(None, description="Claimed by a staff member in the inbox.")
    since: AwareTime | None = Field(None, description="Started at or after this time.")
    until: AwareTime | None = Field(None, description="Started before this time.")


def filter_conversations(f: ConversationFilters) -> QuerySet[Conversation]:
    qs = Conversation.objects.all()
    if f.source is not None:
        qs = qs.filter(source_id=f.source)
    if f.channel is not None:
        qs = qs.filter(channel_id=f.channel)
    if f.awaiting_reply is True:
        qs = qs.filter(state__awaiting_reply=True)
    elif f.awaiting_reply is False:
        qs = qs.filter(Q(state__isnull=True) | Q(state__awaiting_reply=False))
    if f.claimed is True:
        qs = qs.filter(claim__isnull=False)
    elif f.claimed is False:
        qs = qs.filter(claim__isnull=True)
    if f.since is not None:
        qs = qs.filter(started_at__gte=f.since)
    if f.until is not None:
        qs = qs.filter(started_at__lt=f.until)
    return qs.order_by("-started_at", "-id")


def _with_rows(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Everything a conversation's entry shows, in the same query: its source, channel, inbox
    state and claim, and whether its first message is hidden."""
    first_hidden = ModerationItem.objects.filter(
        interaction_id=OuterRef("state__first_message_id"), is_hidden=True
    )
    return conversations.select_related(
        "source",
        "channel",
        "state__opened_by",
        "state__answered_by",
        "claim__user",
    ).annotate(first_hidden=Exists(first_hidden))


@router.get(
    "/conversations",
    response={200: ConversationPage, 422: ErrorOut},
    summary="List conversations",
)
def list_conversations(
    request: HttpRequest, filters: Query[ConversationFilters], page: Query[Pagination]
) -> ConversationPage:
    """Newest first, by when they started (`since` included, `until` excluded)."""
    user = acting_user(request)
    if filters.since is not None and filters.until is not None and filters.since >= filters.until:
        raise ValidationError(
            [{"type": "value_error", "loc": ["query", "since"], "msg": "Expected before until."}]
        )
    sees_hidden = can_moderate(user)
    counted = filter_conversations(filters)
    rows = _with_rows(counted)[page.offset : page.offset + page.limit]
    return ConversationPage(
        count=counted.count(),
        limit=page.limit,
        offset=page.offset,
        items=[conversation_out(c, sees_hidden=sees_hidden) for c in rows],
    )


@router.get(
    "/conversations/{conversation_id}",
    response={200: ConversationDetailOut, 404: ErrorOut},
    summary="Get a conversation and its messages",
)
def get_conversation(
    request: HttpRequest, conversation_id: ConversationId, page: Query[Pagination]
) -> ConversationDetailOut:
    """With its inbox state and claim, and a page of its messages in time order (reactions
    are left out, as on the conversation page: `GET /interactions?conversation=ID&kind=reaction`
    lists them)."""
    user = acting_user(request)
    sees_hidden = can_moderate(user)
    conversation = _with_rows(Conversation.objects.filter(pk=conversation_id)).first()
    if conversation is None:
        raise HttpError(404, f"No conversation #{conversation_id}.")
    messages = Interaction.objects.filter(conversation_id=conversation_id).exclude(
        kind=InteractionKind.REACTION
    )
    return ConversationDetailOut(
        **conversation_out(conversation, sees_hidden=sees_hidden).model_dump(),
        messages=interaction_page(
            messages.order_by("created_at", "id"), page, sees_hidden=sees_hidden
        ),
    )
