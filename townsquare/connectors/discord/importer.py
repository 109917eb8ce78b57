"""DiscordChatExporter JSON: one file per channel ({"guild", "channel", "messages"}), or a folder
of such files."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from townsquare.community.models import InteractionKind, Platform
from townsquare.connectors import jsonstream
from townsquare.connectors.base import Importer, ImportFormatError, first_line, parse_iso, reject
from townsquare.connectors.records import (
    ChannelRecord,
    ConversationRecord,
    IdentityRecord,
    InteractionRecord,
    Record,
)

JOIN_TYPES = {"GuildMemberJoin", "RecipientAdd"}
SAYING_TYPES = {"Default", "Reply"}
# Replies remembered to find a reply-to-a-reply's conversation; an older one forgotten makes
# its replies start from their parent instead, which costs a thread split, never a crash.
MAX_REMEMBERED_REPLIES = 500_000


class DiscordImporter(Importer):
    platform = Platform.DISCORD

    def records(self) -> Iterator[Record]:
        files = self._files()
        self.progress.total = sum(f.stat().st_size for f in files)
        authors: set[str] = set()
        for file in files:
            yield from self._file(file, authors)

    def _files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        files = sorted(
            f
            for f in self.path.rglob("*.json")
            if f.is_file() and not any(p.startswith(".") for p in f.relative_to(self.path).parts)
        )
        if not files:
            raise ImportFormatError(
                self.path, None, "expected DiscordChatExporter .json files in this folder"
            )
        return files

    def _file(self, file: Path, authors: set[str]) -> Iterator[Record]:
        def opener() -> IO[bytes]:
            return file.open("rb")

        # DiscordChatExporter writes guild and channel before the messages; reading them first
        # (and only as far as they go) also copes with a file that has them after.
        channel = jsonstream.first_item(opener, file, "channel")
        if not isinstance(channel, dict) or not channel.get("id"):
            raise ImportFormatError(
                file, None, "expected a DiscordChatExporter export: an object with a 'channel'"
            )
        guild = jsonstream.first_item(opener, file, "guild")
        guild_id = str(guild.get("id") or "") if isinstance(guild, dict) else ""
        channel_id = str(channel["id"])
        name = str(channel.get("name") or channel_id)
        category = str(channel.get("category") or "")
        channel_url = f"https://discord.com/channels/{_guild_path(guild_id)}/{channel_id}"
        yield ChannelRecord(
            external_id=channel_id,
            name=f"{category}/{name}" if category else name,
            topic=str(channel.get("topic") or ""),
            url=channel_url,
        )

        conversation_of: OrderedDict[str, str] = OrderedDict()
        messages = jsonstream.items(opener, file, "messages.item", self.progress)
        for index, message in enumerate(messages):
            location = f"{file.name}:messages[{index}]"
            yield from self._message(
                message, location, channel_id, channel_url, conversation_of, authors
            )

    def _message(
        self,
        message: Any,
        location: str,
        channel_id: str,
        channel_url: str,
        conversation_of: OrderedDict[str, str],
        authors: set[str],
    ) -> Iterator[Record]:
        if not isinstance(message, dict) or not message.get("id"):
            yield reject(location, "a message needs an 'id'", message)
            return
        message_id = str(message["id"])
        try:
            created_at = parse_iso(str(message["timestamp"]))
        except (KeyError, ValueError):
            yield reject(location, "a message needs an ISO 8601 'timestamp'", message)
            return
        author = message.get("author")
        if not isinstance(author, dict) or not author.get("id"):
            yield reject(location, "a message needs an 'author' with an 'id'", message)
            return
        edited_at = _time(message.get("timestampEdited"))
        message_type = str(message.get("type") or "Default")

        parent_id = _replied_to(message, message_type, channel_id)
        if message_type in JOIN_TYPES:
            kind = InteractionKind.JOIN
            # "Added X to the group": the one who joined is X, not who added them.
            mentions = [m for m in message.get("mentions") or [] if isinstance(m, dict)]
            if message_type == "RecipientAdd" and len(mentions) == 1 and mentions[0].get("id"):
                author = mentions[0]
        elif message_type not in SAYING_TYPES:
            kind = InteractionKind.EVENT
        else:
            kind = InteractionKind.REPLY if parent_id else InteractionKind.MESSAGE
        yield from self._identity(author, authors)

        conversation_id: str | None = None
        if kind == InteractionKind.MESSAGE:
            conversation_id = message_id
            yield ConversationRecord(
                external_id=message_id,
                started_at=created_at,
                title=first_line(str(message.get("content") or "")) or _attachment_title(message),
                channel_id=channel_id,
                url=f"{channel_url}/{message_id}",
            )
        elif kind == InteractionKind.REPLY and parent_id:
            # A parent not seen as a reply started its own conversation (or is not exported,
            # and the writer starts one from the earliest message that names it).
            conversation_id = conversation_of.get(parent_id, parent_id)
            conversation_of[message_id] = conversation_id
            if len(conversation_of) > MAX_REMEMBERED_REPLIES:
                conversation_of.popitem(last=False)

        yield InteractionRecord(
            external_id=message_id,
            kind=kind,
            created_at=created_at,
            author_id=str(author["id"]),
            channel_id=channel_id,
            conversation_id=conversation_id,
            parent_id=parent_id if kind == InteractionKind.REPLY else None,
            text=str(message.get("content") or ""),
            url=f"{channel_url}/{message_id}",
            edited_at=edited_at,
            raw=message,
        )
        yield from self._reactions(
            message, message_id, location, created_at, channel_id, conversation_id, authors
        )

    def _reactions(
        self,
        message: dict[str, Any],
        message_id: str,
        location: str,
        created_at: datetime,
        channel_id: str,
        conversation_id: str | None,
        authors: set[str],
    ) -> Iterator[Record]:
        # Who reacted is listed only by exports made with reactions' users; counts alone stay
        # in the message's raw payload. The export has no reaction times: the message's is used.
        for reaction in message.get("reactions") or []:
            emoji = reaction.get("emoji") if isinstance(reaction, dict) else None
            if not isinstance(emoji, dict) or not (emoji.get("name") or emoji.get("id")):
                yield reject(location, "a reaction needs an 'emoji' with a name or an id", reaction)
                continue
            emoji_key = str(emoji.get("name") or emoji.get("id"))
            for user in reaction.get("users") or []:
                if not isinstance(user, dict) or not user.get("id"):
                    yield reject(location, "a reaction's user needs an 'id'", user)
                    continue
                yield from self._identity(user, authors)
                yield InteractionRecord(
                    external_id=f"{message_id}:reaction:{emoji_key}:{user['id']}",
                    kind=InteractionKind.REACTION,
                    created_at=created_at,
                    author_id=str(user["id"]),
                    channel_id=channel_id,
                    conversation_id=conversation_id,
                    parent_id=message_id,
                    text=emoji_key,
                    raw={"emoji": emoji, "user": user},
                )

    @staticmethod
    def _identity(user: dict[str, Any], authors: set[str]) -> Iterator[Record]:
        user_id = str(user["id"])
        if user_id in authors:
            return
        authors.add(user_id)
        name = str(user.get("name") or "")
        yield IdentityRecord(
            external_id=user_id,
            handle=name,
            display_name=str(user.get("nickname") or name),
            is_bot=bool(user.get("isBot")),
            raw=user,
        )


def _guild_path(guild_id: str) -> str:
    # Direct and group messages live under "@me"; DiscordChatExporter writes guild id "0".
    return guild_id if guild_id and guild_id != "0" else "@me"


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return parse_iso(str(value))
    except ValueError:
        return None


def _replied_to(message: dict[str, Any], message_type: str, channel_id: str) -> str | None:
    reference = message.get("reference")
    if not isinstance(reference, dict) or not reference.get("messageId"):
        return None
    if message_type == "Reply":
        return str(reference["messageId"])
    # Older exports wrote replies as "Default" with a reference; a reference to another
    # channel on a "Default" message is a crosspost, not a reply.
    same_channel = str(reference.get("channelId") or channel_id) == channel_id
    return str(reference["messageId"]) if message_type == "Default" and same_channel else None


def _attachment_title(message: dict[str, Any]) -> str:
    for attachment in message.get("attachments") or []:
        if isinstance(attachment, dict) and attachment.get("fileName"):
            return first_line(str(attachment["fileName"]))
    return ""
