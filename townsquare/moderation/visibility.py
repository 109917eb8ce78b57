"""Who reads a hidden message's words. A moderator hides a message (`ModerationItem.is_hidden`);
every page then shows "Hidden by a moderator." to the roles below moderator in place of its
words, excerpts of them, the labels drawn from them and, when it opens a conversation, the
conversation's title (docs/architecture.md, "Moderation").

Pages read the flag with their rows, never with a query per row: interactions with
`select_related("moderation")`, anything else through the `Exists` expressions below as an
annotation. Templates ask `can_moderate` (the `user_role` context processor gives it to every
page).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from townsquare.inbox.models import ConversationState
from townsquare.moderation.models import ModerationItem


def message_hidden(message_id: str) -> Exists:
    """An annotation: whether the message whose id the field path `message_id` holds is
    hidden."""
    return Exists(
        ModerationItem.objects.filter(interaction_id=OuterRef(message_id), is_hidden=True)
    )


def title_hidden(conversation_id: str = "pk") -> Exists:
    """An annotation: whether a conversation's title must be hidden with its first message.
    Chat platforms title a conversation with its first message's first line, forums and mail
    with the opening post's own title or subject: either way they are that message's words.
    The first message is the inbox rollup's (`ConversationState.first_message`).
    `conversation_id`: the field of the rows that holds the conversation's id."""
    return Exists(
        ConversationState.objects.filter(
            conversation_id=OuterRef(conversation_id), first_message__moderation__is_hidden=True
        )
    )
