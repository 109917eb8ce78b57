"""Slack's official workspace export: a folder or .zip of users.json, channels.json and one
folder per channel holding a JSON array of messages per day."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from townsquare.community.models import InteractionKind, Platform
from townsquare.connectors.archive import ExportArchive
from townsquare.connectors.base import (
    Importer,
    ImportFormatError,
    first_line,
    from_timestamp,
    reject,
)
from townsquare.connectors.records import (
    ChannelRecord,
    ConversationRecord,
    IdentityRecord,
    InteractionRecord,
    Record,
)

# Files that list conversations: public channels, private channels, group and direct messages.
CHANNEL_LISTS = ("channels.json", "groups.json", "mpims.json", "dms.json")
DAY_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")

# Subtypes that are an event in a channel rather than something a member said.
SUBTYPE_KINDS = {
    "channel_join": InteractionKind.JOIN,
    "group_join": InteractionKind.JOIN,
    "channel_leave": InteractionKind.LEAVE,
    "group_leave": InteractionKind.LEAVE,
    "file_comment": InteractionKind.COMMENT,
    "thread_broadcast": InteractionKind.REPLY,
}
SAYING_SUBTYPES = {None, "file_share", "me_message", "bot_message", "thread_broadcast"}


def _day_files(export: ExportArchive) -> list[tuple[str, str, int]]:
    """(folder, relative path, size) of every per-day message file, in a stable order."""
    found = []
    for rel, size in export.files():
        parts = PurePosixPath(rel).parts
        if len(parts) == 2 and DAY_FILE.match(parts[1]):
            found.append((parts[0], rel, size))
    return sorted(found)


class SlackImporter(Importer):
    platform = Platform.SLACK

    def records(self) -> Iterator[Record]:
        export = ExportArchive(self.path, marker="users.json", what="a Slack export")
        if not export.exists("users.json") and not export.exists("channels.json"):
            raise ImportFormatError(
                self.path, None, "expected a Slack export with users.json and channels.json"
            )
        days = _day_files(export)
        self.progress.total = sum(size for _, _, size in days)

        if export.exists("users.json"):
            for index, user in enumerate(self._load_list(export, "users.json")):
                yield self._identity(user, f"users.json[{index}]")

        folders: dict[str, str] = {}
        for list_name in CHANNEL_LISTS:
            if not export.exists(list_name):
                continue
            for index, channel in enumerate(self._load_list(export, list_name)):
                location = f"{list_name}[{index}]"
                if not isinstance(channel, dict) or not channel.get("id"):
                    yield reject(location, "a channel needs an 'id'", channel)
                    continue
                name = str(channel.get("name") or channel["id"])
                folders[name] = str(channel["id"])
                folders[str(channel["id"])] = str(channel["id"])
                yield ChannelRecord(
                    external_id=str(channel["id"]),
                    name=name,
                    topic=_value(channel.get("purpose")) or _value(channel.get("topic")),
                    created_at=from_timestamp(channel["created"])
                    if channel.get("created")
                    else None,
                    is_archived=bool(channel.get("is_archived")),
                )

        bots: set[str] = set()
        for folder, rel, size in days:
            channel_id = folders.get(folder, folder)
            messages = self._load_list(export, rel)
            for index, message in enumerate(messages):
                yield from self._message(message, channel_id, f"{rel}[{index}]", bots)
            self.progress.advance(size)

    def _load_list(self, export: ExportArchive, name: str) -> list[Any]:
        try:
            data = json.loads(export.read(name))
        except json.JSONDecodeError as e:
            raise ImportFormatError(
                export.where(name), f"line {e.lineno} column {e.colno}", f"expected JSON ({e.msg})"
            ) from None
        except UnicodeDecodeError:
            raise ImportFormatError(export.where(name), None, "expected UTF-8 JSON") from None
        if not isinstance(data, list):
            raise ImportFormatError(export.where(name), None, "expected a JSON array")
        return data

    @staticmethod
    def _identity(user: Any, location: str) -> Record:
        if not isinstance(user, dict) or not user.get("id"):
            return reject(location, "a user needs an 'id'", user)
        profile = user.get("profile") or {}
        return IdentityRecord(
            external_id=str(user["id"]),
            handle=str(user.get("name") or ""),
            display_name=str(
                profile.get("display_name")
                or profile.get("real_name")
                or user.get("real_name")
                or user.get("name")
                or ""
            ),
            email=str(profile.get("email") or ""),
            is_bot=bool(user.get("is_bot")) or user.get("id") == "USLACKBOT",
            raw=user,
        )

    def _message(
        self, message: Any, channel_id: str, location: str, bots: set[str]
    ) -> Iterator[Record]:
        if not isinstance(message, dict):
            yield reject(location, "expected a message object", message)
            return
        ts: Any = message.get("ts")
        try:
            created_at = from_timestamp(ts)
        except (TypeError, ValueError):
            yield reject(location, "a message needs a numeric 'ts' timestamp", message)
            return
        subtype = message.get("subtype")
        comment: dict[str, Any] = (
            message["comment"] if isinstance(message.get("comment"), dict) else {}
        )
        author = message.get("user") or comment.get("user") or message.get("bot_id")
        if not author:
            yield reject(location, "a message needs a 'user' or a 'bot_id'", message)
            return
        author = str(author)
        if not message.get("user") and not comment.get("user") and author not in bots:
            bots.add(author)
            yield IdentityRecord(
                external_id=author,
                handle=str(message.get("username") or author),
                display_name=str(message.get("username") or author),
                is_bot=True,
            )

        external_id = f"{channel_id}:{ts}"
        thread_ts = message.get("thread_ts")
        is_reply = bool(thread_ts) and thread_ts != ts
        conversation_id = f"{channel_id}:{thread_ts if is_reply else ts}"
        text = str(message.get("text") or "")
        edited = message.get("edited")
        edited_at = None
        if isinstance(edited, dict) and edited.get("ts"):
            try:
                edited_at = from_timestamp(edited["ts"])
            except ValueError:
                edited_at = None

        if subtype in SUBTYPE_KINDS and subtype != "thread_broadcast":
            kind = SUBTYPE_KINDS[subtype]
        elif subtype not in SAYING_SUBTYPES:
            kind = InteractionKind.EVENT
        else:
            kind = InteractionKind.REPLY if is_reply else InteractionKind.MESSAGE
        says_something = kind in (InteractionKind.MESSAGE, InteractionKind.REPLY)

        if kind == InteractionKind.MESSAGE:
            yield ConversationRecord(
                external_id=conversation_id,
                started_at=created_at,
                title=first_line(text) or _file_title(message),
                channel_id=channel_id,
            )
        yield InteractionRecord(
            external_id=external_id,
            kind=kind,
            created_at=created_at,
            author_id=author,
            channel_id=channel_id,
            conversation_id=conversation_id if says_something else None,
            parent_id=f"{channel_id}:{thread_ts}" if is_reply else None,
            text=text,
            edited_at=edited_at,
            raw=message,
        )
        # The export lists who reacted, not when: a reaction takes its message's time.
        for reaction in message.get("reactions") or []:
            if not isinstance(reaction, dict) or not reaction.get("name"):
                yield reject(location, "a reaction needs a 'name'", reaction)
                continue
            for user in reaction.get("users") or []:
                yield InteractionRecord(
                    external_id=f"{external_id}:reaction:{reaction['name']}:{user}",
                    kind=InteractionKind.REACTION,
                    created_at=created_at,
                    author_id=str(user),
                    channel_id=channel_id,
                    conversation_id=conversation_id if says_something else None,
                    parent_id=external_id,
                    text=str(reaction["name"]),
                    raw={"name": reaction["name"], "user": user},
                )


def _value(field: Any) -> str:
    if isinstance(field, dict):
        return str(field.get("value") or "")
    return ""


def _file_title(message: dict[str, Any]) -> str:
    files = message.get("files") or ([message["file"]] if message.get("file") else [])
    for f in files:
        if isinstance(f, dict) and (f.get("title") or f.get("name")):
            return first_line(str(f.get("title") or f.get("name")))
    return ""
