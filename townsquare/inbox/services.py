"""Writes of the inbox: claiming and releasing conversations, marking them answered, and the
saved replies. Views and commands call these; they never call each other."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from townsquare.community.memory import http_url
from townsquare.community.models import Conversation
from townsquare.inbox.models import Claim, ConversationState, SavedReply
from townsquare.inbox.replies import check_body
from townsquare.inbox.rollup import refresh_states

# A claim released and taken again between our attempt and our look is rare; three times in a
# row means something else is wrong.
CLAIM_ATTEMPTS = 3


class InboxError(ValueError):
    """An inbox action that cannot be done, with the reason in words."""


def staff_name(user: User) -> str:
    return user.get_full_name() or user.get_username()


def do_claim(*, conversation: Conversation, user: User) -> User | None:
    """Claim the conversation for the user. Returns None when the user holds it now (claimed
    now or before), or the user who holds it when someone else does. The database decides
    between two people claiming at the same instant: its unique index lets one row in."""
    for _ in range(CLAIM_ATTEMPTS):
        try:
            with transaction.atomic():
                Claim.objects.create(conversation=conversation, user=user)
            return None
        except IntegrityError:
            holder = Claim.objects.filter(conversation=conversation).select_related("user").first()
            if holder is not None:
                return None if holder.user_id == user.pk else holder.user
            # Released in between: try again.
    raise InboxError("This conversation’s claim keeps changing; try again in a moment.")


def do_release(*, conversation: Conversation, user: User) -> bool:
    """Give up the user's claim; False when they held none. Someone else's claim is theirs to
    release (or goes when the conversation is marked answered)."""
    with transaction.atomic():
        claim = Claim.objects.select_related("user").filter(conversation=conversation).first()
        if claim is None:
            return False
        if claim.user_id != user.pk:
            raise InboxError(
                f"{staff_name(claim.user)} claimed this conversation: only they can release it."
            )
        claim.delete()
    return True


def _state(conversation: Conversation) -> ConversationState:
    """The conversation's state, computed now if enrichment has not done it yet."""
    state = ConversationState.objects.select_for_update().filter(conversation=conversation).first()
    if state is None:
        refresh_states([conversation.pk])
        state = ConversationState.objects.select_for_update().get(conversation=conversation)
    return state


def do_mark_answered(
    *, conversation: Conversation, user: User, link: str = ""
) -> ConversationState:
    """Record that the conversation was answered (elsewhere, or on the platform directly),
    optionally where: it leaves the inbox and its claim is cleared."""
    try:
        link = http_url(link)
    except ValueError as e:
        raise InboxError(str(e)) from None
    with transaction.atomic():
        state = _state(conversation)
        state.answered_at = timezone.now()
        state.answered_by = user
        state.answered_link = link
        state.awaiting_reply = False
        state.save(update_fields=["answered_at", "answered_by", "answered_link", "awaiting_reply"])
        Claim.objects.filter(conversation=conversation).delete()
    return state


def do_reopen(*, conversation: Conversation) -> ConversationState:
    """Undo "mark as answered": the conversation awaits a reply again unless someone replied."""
    with transaction.atomic():
        state = _state(conversation)
        state.answered_at = None
        state.answered_by = None
        state.answered_link = ""
        state.awaiting_reply = (
            state.first_message_id is not None and state.first_response_at is None
        )
        state.save(update_fields=["answered_at", "answered_by", "answered_link", "awaiting_reply"])
    return state


def do_save_reply(
    *, reply: SavedReply | None = None, title: str, body: str, user: User
) -> SavedReply:
    """Create a saved reply (or change `reply`). An unknown variable is refused, so that no
    member ever receives a literal "{firstname}"."""
    title = " ".join(title.split())
    if not title or not body.strip():
        raise InboxError("A saved reply needs a title and a text.")
    try:
        check_body(body)
    except ValueError as e:
        raise InboxError(str(e)) from None
    if reply is None:
        reply = SavedReply(created_by=user)
    reply.title = title
    reply.body = body
    try:
        with transaction.atomic():
            reply.save()
    except IntegrityError:
        raise InboxError(f"A saved reply is already titled “{title}”.") from None
    return reply


def do_delete_reply(*, reply: SavedReply) -> None:
    reply.delete()
