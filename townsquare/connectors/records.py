"""Typed records: what every importer turns a platform's payloads into.

Nothing past an importer sees a platform's raw dicts, except the `raw` payload kept verbatim.
References between records use the platform's own ids (external ids); the writer maps them to
database rows, whatever order the records arrive in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from townsquare.community.models import InteractionKind

JSONValue = Any


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    external_id: str
    name: str
    topic: str = ""
    url: str = ""
    created_at: datetime | None = None
    is_archived: bool = False


@dataclass(frozen=True, slots=True)
class IdentityRecord:
    external_id: str
    handle: str = ""
    display_name: str = ""
    email: str = ""
    profile_url: str = ""
    is_bot: bool = False
    raw: JSONValue = None


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    external_id: str
    started_at: datetime
    title: str = ""
    channel_id: str | None = None
    url: str = ""


@dataclass(frozen=True, slots=True)
class InteractionRecord:
    external_id: str
    kind: InteractionKind
    created_at: datetime
    author_id: str | None = None
    channel_id: str | None = None
    conversation_id: str | None = None
    parent_id: str | None = None
    text: str = ""
    url: str = ""
    edited_at: datetime | None = None
    raw: JSONValue = None


@dataclass(frozen=True, slots=True)
class RejectedRecordInfo:
    """A record the importer cannot use: where it is, why, and an excerpt of it."""

    location: str
    reason: str
    excerpt: str = ""


Record = (
    ChannelRecord | IdentityRecord | ConversationRecord | InteractionRecord | RejectedRecordInfo
)


@dataclass(slots=True)
class Progress:
    """Work done so far, in units an importer chooses (bytes, files, records)."""

    total: int | None = None
    done: int = 0
    unit: str = "B"
    listeners: list[Any] = field(default_factory=list)

    def advance(self, amount: int) -> None:
        self.done += amount
        for listener in self.listeners:
            listener(amount)
