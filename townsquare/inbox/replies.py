"""Saved replies' variables: what `{first_name}` and the others stand for, checked when a reply
is saved and filled in for the member it is written to. Replies are plain text: the page
escapes them like any other text."""

from __future__ import annotations

import re
from collections.abc import Iterable

from townsquare.community.models import Conversation, Identity, Member

# Variable -> what it stands for, as the saved-reply form explains it.
VARIABLES: dict[str, str] = {
    "first_name": "the member's first name (the first word of their name)",
    "name": "the member's name",
    "handle": "their handle on the conversation's platform",
    "channel": "the conversation's channel, without #",
    "platform": "the conversation's platform (Slack, Stack Exchange…)",
}
# Anything in single braces is meant as a variable: a misspelt one is an error, not text.
PLACEHOLDER = re.compile(r"\{([^{}\n]*)\}")


def variable_list() -> str:
    names = [f"{{{name}}}" for name in VARIABLES]
    return ", ".join(names[:-1]) + " and " + names[-1]


def unknown_variables(body: str) -> list[str]:
    """The placeholders of a body that are not variables, in order, once each."""
    found = (m.group(1) for m in PLACEHOLDER.finditer(body))
    return list(dict.fromkeys(name for name in found if name not in VARIABLES))


def check_body(body: str) -> None:
    """Raise ValueError naming the unknown variables, if there are any."""
    unknown = unknown_variables(body)
    if unknown:
        listed = ", ".join(f"{{{name}}}" for name in unknown)
        plural = "s" if len(unknown) > 1 else ""
        raise ValueError(f"Unknown variable{plural} {listed}. The variables are {variable_list()}.")


def fill(body: str, values: dict[str, str]) -> str:
    """The body with its variables replaced; a placeholder that is not a variable (a reply
    saved before the list changed) is left as written."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def _handle(identities: Iterable[Identity], source_id: int) -> str:
    handles = [(i.source_id != source_id, i.pk, i.handle) for i in identities if i.handle]
    return min(handles)[2] if handles else ""


def member_values(
    member: Member | None, conversation: Conversation, identities: Iterable[Identity] = ()
) -> dict[str, str]:
    """The variables' values for a member in a conversation. `identities` are the member's
    (with their source_id): the handle is theirs on the conversation's source when they have
    one there. An unknown member gives empty names."""
    name = member.display_name.strip() if member is not None else ""
    return {
        "first_name": name.split()[0] if name else "",
        "name": name,
        "handle": _handle(identities, conversation.source_id),
        "channel": conversation.channel.name if conversation.channel is not None else "",
        "platform": conversation.source.get_platform_display(),
    }
