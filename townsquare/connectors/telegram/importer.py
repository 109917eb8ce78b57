"""Telegram Desktop's JSON export (result.json): one chat, or a whole account's chats."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import ijson

from townsquare.community.models import InteractionKind, Platform
from townsquare.connectors.base import (
    Importer,
    ImportFormatError,
    first_line,
    from_timestamp,
    parse_iso,
    reject,
)
from townsquare.connectors.jsonstream import CHUNK, JsonReader, reading
from townsquare.connectors.records import (
    ChannelRecord,
    ConversationRecord,
    IdentityRecord,
    InteractionRecord,
    Record,
)

JOIN_ACTIONS = {"join_group_by_link", "join_group_by_request", "invite_members"}
# Where chats sit: a single-chat export is one chat at the top; an account export lists them.
CHAT_PREFIXES = {"": "", "chats.list.item": "chats.list", "left_chats.list.item": "left_chats.list"}
MESSAGE_PREFIXES = {f"{p}.messages.item".lstrip(".") for p in CHAT_PREFIXES}
# Replies remembered to find a reply-to-a-reply's conversation; an older one forgotten makes
# its replies start from their parent instead, which costs a thread split, never a crash.
MAX_REMEMBERED_REPLIES = 500_000
# Media a message may carry instead of text, used to title a conversation it starts.
MEDIA_FIELDS = ("file_name", "media_type", "photo", "sticker_emoji", "poll")


@dataclass
class _Chat:
    """What is known of the chat being read: its fields arrive before its messages."""

    location: str
    fields: dict[str, Any] = field(default_factory=dict)
    announced: bool = False
    message_count: int = 0
    conversation_of: OrderedDict[str, str] = field(default_factory=OrderedDict)

    @property
    def id(self) -> str:
        value = self.fields.get("id")
        return "" if value is None else str(value)


class TelegramImporter(Importer):
    platform = Platform.TELEGRAM

    def records(self) -> Iterator[Record]:
        files = self._files()
        self.progress.total = sum(f.stat().st_size for f in files)
        people: set[str] = set()
        for file in files:
            yield from self._file(file, people)

    def _files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        files = sorted(f for f in self.path.rglob("result.json") if f.is_file())
        if not files:
            raise ImportFormatError(self.path, None, "expected a Telegram export's result.json")
        return files

    def _file(self, file: Path, people: set[str]) -> Iterator[Record]:
        with file.open("rb") as raw, reading(file, raw, self.progress) as reader:
            yield from self._events(file, reader, people)

    def _events(self, file: Path, reader: JsonReader, people: set[str]) -> Iterator[Record]:
        chats: dict[str, int] = {}
        chat: _Chat | None = None
        builder: Any = None
        item_prefix = ""
        known_layout = False
        events = ijson.parse(reader, use_float=True, buf_size=CHUNK)
        for prefix, event, value in events:
            if builder is not None:
                builder.event(event, value)
                # The item's own closing brace is the only end_map at exactly its prefix.
                if event == "end_map" and prefix == item_prefix:
                    if chat is not None:  # always: a builder only starts inside a chat
                        yield from self._message(builder.value, chat, people)
                    builder = None
                continue
            if prefix in CHAT_PREFIXES and event == "start_map":
                list_name = CHAT_PREFIXES[prefix]
                index = chats.get(list_name, -1) + 1
                chats[list_name] = index
                chat = _Chat(location=f"{list_name}[{index}]." if list_name else "")
            elif chat is not None and prefix in CHAT_PREFIXES and event == "end_map":
                yield from self._announce(chat)
                chat = None
            elif chat is not None and event in ("string", "number") and _is_chat_field(prefix):
                chat.fields[prefix.rsplit(".", 1)[-1]] = value
            elif chat is not None and prefix in MESSAGE_PREFIXES and event == "start_map":
                if not chat.id:
                    raise ImportFormatError(
                        file,
                        f"{reader.locate()}, {chat.location}messages",
                        "expected the chat's 'id' before its messages",
                    )
                yield from self._announce(chat)
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                item_prefix = prefix
                chat.message_count += 1
            elif prefix == "" and event == "map_key" and value in ("messages", "chats"):
                known_layout = True
            elif prefix == "" and event == "start_array":
                raise ImportFormatError(
                    file, "line 1", "expected a Telegram export: an object, not a list"
                )
        if not known_layout:
            raise ImportFormatError(
                file,
                None,
                "expected a Telegram Desktop export: a chat with 'messages' or an account "
                "export with 'chats'",
            )

    @staticmethod
    def _announce(chat: _Chat) -> Iterator[Record]:
        if chat.announced or not chat.id:
            return
        chat.announced = True
        name = chat.fields.get("name")
        yield ChannelRecord(
            external_id=chat.id,
            name=str(name) if name else f"{chat.fields.get('type') or 'chat'} {chat.id}",
        )

    def _message(self, message: Any, chat: _Chat, people: set[str]) -> Iterator[Record]:
        location = f"{chat.location}messages[{chat.message_count - 1}]"
        if not isinstance(message, dict) or message.get("id") is None:
            yield reject(location, "a message needs an 'id'", message)
            return
        external_id = f"{chat.id}:{message['id']}"
        created_at = _time(message.get("date_unixtime"), message.get("date"))
        if created_at is None:
            yield reject(location, "a message needs a 'date' or a 'date_unixtime'", message)
            return
        message_type = message.get("type")
        text = flatten_text(message.get("text"))
        if message_type == "service":
            author_id = _person_id(message.get("actor_id"))
            yield from _identity(author_id, message.get("actor"), people)
            # "invite_members" is attributed to whoever invited: the export names the invited
            # members (in raw) but not their ids.
            kind = (
                InteractionKind.JOIN
                if message.get("action") in JOIN_ACTIONS
                else InteractionKind.EVENT
            )
            yield InteractionRecord(
                external_id=external_id,
                kind=kind,
                created_at=created_at,
                author_id=author_id,
                channel_id=chat.id,
                text=text,
                raw=message,
            )
            return
        if message_type != "message":
            yield reject(location, f"unknown message type {message_type!r}", message)
            return
        author_id = _person_id(message.get("from_id"))
        if author_id is None:
            yield reject(location, "a message needs a 'from_id'", message)
            return
        yield from _identity(author_id, message.get("from"), people)

        reply_to = message.get("reply_to_message_id")
        # A reply to a message of another chat ("reply_to_peer_id") has no parent here.
        parent_id = (
            f"{chat.id}:{reply_to}"
            if reply_to is not None and not message.get("reply_to_peer_id")
            else None
        )
        if parent_id:
            conversation_id = chat.conversation_of.get(parent_id, parent_id)
            chat.conversation_of[external_id] = conversation_id
            if len(chat.conversation_of) > MAX_REMEMBERED_REPLIES:
                chat.conversation_of.popitem(last=False)
        else:
            conversation_id = external_id
            yield ConversationRecord(
                external_id=external_id,
                started_at=created_at,
                title=first_line(text) or _media_title(message),
                channel_id=chat.id,
            )
        yield InteractionRecord(
            external_id=external_id,
            kind=InteractionKind.REPLY if parent_id else InteractionKind.MESSAGE,
            created_at=created_at,
            author_id=author_id,
            channel_id=chat.id,
            conversation_id=conversation_id,
            parent_id=parent_id,
            text=text,
            edited_at=_time(message.get("edited_unixtime"), message.get("edited")),
            raw=message,
        )
        yield from self._reactions(
            message, external_id, created_at, conversation_id, chat, location, people
        )

    @staticmethod
    def _reactions(
        message: dict[str, Any],
        external_id: str,
        created_at: datetime,
        conversation_id: str,
        chat: _Chat,
        location: str,
        people: set[str],
    ) -> Iterator[Record]:
        # Only the "recent" reactors are listed, with their time; counts stay in raw.
        for reaction in message.get("reactions") or []:
            if not isinstance(reaction, dict):
                yield reject(location, "a reaction must be an object", reaction)
                continue
            emoji = str(
                reaction.get("emoji") or reaction.get("document_id") or reaction.get("type") or ""
            )
            for recent in reaction.get("recent") or []:
                reactor = _person_id(recent.get("from_id")) if isinstance(recent, dict) else None
                if reactor is None:
                    yield reject(location, "a reaction's 'recent' entry needs a 'from_id'", recent)
                    continue
                yield from _identity(reactor, recent.get("from"), people)
                when = _time(recent.get("date_unixtime"), recent.get("date"))
                yield InteractionRecord(
                    external_id=f"{external_id}:reaction:{emoji}:{reactor}",
                    kind=InteractionKind.REACTION,
                    created_at=when or created_at,
                    author_id=reactor,
                    channel_id=chat.id,
                    conversation_id=conversation_id,
                    parent_id=external_id,
                    text=emoji,
                    raw={
                        "reaction": {k: v for k, v in reaction.items() if k != "recent"},
                        "recent": recent,
                    },
                )


def flatten_text(value: Any) -> str:
    """Telegram's text: a string, or a list of strings and entities ({"type", "text"})."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(
            part if isinstance(part, str) else str(part.get("text") or "")
            for part in value
            if isinstance(part, str | dict)
        )
    return ""


def _is_chat_field(prefix: str) -> bool:
    head, _, name = prefix.rpartition(".")
    return name in ("name", "type", "id") and (head in CHAT_PREFIXES or prefix == name)


def _person_id(value: Any) -> str | None:
    # Exports before 2021 gave a bare number; later ones "user123" or "channel456".
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"user{int(value)}"
    return str(value) if value else None


def _identity(person_id: str | None, name: Any, people: set[str]) -> Iterator[Record]:
    if person_id is None or person_id in people:
        return
    people.add(person_id)
    yield IdentityRecord(external_id=person_id, display_name=str(name or ""))


def _time(unixtime: Any, local: Any) -> datetime | None:
    if unixtime not in (None, ""):
        try:
            return from_timestamp(unixtime)
        except (TypeError, ValueError, OverflowError):
            return None
    if isinstance(local, str) and local:
        # Exports before 2022 give only the exporting computer's local time, without its
        # zone: taken as UTC, which may shift such times by the exporter's offset.
        try:
            return parse_iso(local)
        except ValueError:
            return None
    return None


def _media_title(message: dict[str, Any]) -> str:
    for key in MEDIA_FIELDS:
        value = message.get(key)
        if isinstance(value, str) and value and not value.startswith("(File not included"):
            return first_line(value)
        if value:
            return key.replace("_", " ")
    return ""
