"""A Mastodon account archive ("Request your archive"): a folder or .zip holding the account's
ActivityStreams outbox.json, actor.json and likes.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

import ijson

from townsquare.community.models import InteractionKind, Platform
from townsquare.connectors.archive import ExportArchive
from townsquare.connectors.base import Importer, ImportFormatError, first_line, parse_iso, reject
from townsquare.connectors.jsonstream import Event, json_events
from townsquare.connectors.records import (
    ChannelRecord,
    ConversationRecord,
    IdentityRecord,
    InteractionRecord,
    Record,
)

CHANNEL_ID = "outbox"
# Object types Mastodon (and servers it federates with) uses for something a person wrote.
NOTE_TYPES = {"Note", "Question", "Article", "Page"}


class MastodonImporter(Importer):
    platform = Platform.MASTODON

    def records(self) -> Iterator[Record]:
        archive = ExportArchive(self.path, marker="outbox.json", what="a Mastodon archive")
        if not archive.exists("outbox.json"):
            raise ImportFormatError(
                self.path, None, "expected a Mastodon archive with outbox.json and actor.json"
            )
        if not archive.exists("actor.json"):
            raise ImportFormatError(
                archive.where("actor.json"), None, "expected the account's actor.json"
            )
        self.progress.total = archive.size("outbox.json") + (
            archive.size("likes.json") if archive.exists("likes.json") else 0
        )

        actor = self._actor(archive)
        owner = str(actor["id"])
        username = str(actor.get("preferredUsername") or "")
        yield IdentityRecord(
            external_id=owner,
            handle=username,
            display_name=str(actor.get("name") or username),
            profile_url=str(actor.get("url") or ""),
            raw=actor,
        )
        yield ChannelRecord(
            external_id=CHANNEL_ID,
            name=f"@{username}" if username else owner,
            topic=_html_to_text(str(actor.get("summary") or "")),
            url=str(actor.get("url") or ""),
            created_at=_time(actor.get("published")),
        )

        latest: datetime | None = None
        conversations_seen: set[str] = set()
        for index, activity in enumerate(self._collection(archive, "outbox.json")):
            location = f"outbox.json orderedItems[{index}]"
            for record in self._activity(activity, owner, location, conversations_seen):
                if isinstance(record, InteractionRecord):
                    latest = max(latest or record.created_at, record.created_at)
                yield record

        # Bookmarks are not imported: they are private to the owner (nobody else sees them),
        # so they say nothing about the community and would only leak a private list.
        if archive.exists("likes.json"):
            yield from self._likes(archive, owner, latest, _time(actor.get("published")))

    def _actor(self, archive: ExportArchive) -> dict[str, Any]:
        where = archive.where("actor.json")
        try:
            with archive.open("actor.json") as f:
                actor = json.load(f)
        except json.JSONDecodeError as e:
            raise ImportFormatError(
                where, f"line {e.lineno} column {e.colno}", f"expected JSON ({e.msg})"
            ) from None
        except UnicodeDecodeError:
            raise ImportFormatError(where, None, "expected UTF-8 JSON") from None
        if not isinstance(actor, dict) or not actor.get("id"):
            raise ImportFormatError(where, None, "expected an ActivityStreams actor with an 'id'")
        return actor

    def _collection(self, archive: ExportArchive, name: str) -> Iterator[Any]:
        """The orderedItems of an OrderedCollection file, streamed."""
        found = False

        def events() -> Iterator[Event]:
            nonlocal found
            for event in json_events(
                lambda: archive.open(name), archive.where(name), self.progress
            ):
                if event[0] == "orderedItems" and event[1] == "start_array":
                    found = True
                yield event

        yield from ijson.items(events(), "orderedItems.item")
        if not found:
            raise ImportFormatError(
                archive.where(name),
                None,
                "expected an ActivityStreams collection with orderedItems",
            )

    def _activity(
        self, activity: Any, owner: str, location: str, conversations_seen: set[str]
    ) -> Iterator[Record]:
        if not isinstance(activity, dict):
            yield reject(location, "expected an activity object", activity)
            return
        if not activity.get("id"):
            yield reject(location, "an activity needs an 'id'", activity)
            return
        kind = activity.get("type")
        if kind == "Create":
            yield from self._create(activity, owner, location, conversations_seen)
        elif kind == "Announce":
            yield from self._announce(activity, owner, location)
        else:
            yield reject(location, f"unsupported activity type {kind}", activity)

    def _create(
        self, activity: dict[str, Any], owner: str, location: str, conversations_seen: set[str]
    ) -> Iterator[Record]:
        note = activity.get("object")
        if not isinstance(note, dict):
            yield reject(location, "a Create needs the object it created", activity)
            return
        if note.get("type") not in NOTE_TYPES:
            yield reject(location, f"unsupported object type {note.get('type')}", activity)
            return
        if not note.get("id"):
            yield reject(location, "the created object needs an 'id'", activity)
            return
        created_at = _time(note.get("published")) or _time(activity.get("published"))
        if created_at is None:
            yield reject(location, "a note needs a 'published' time", activity)
            return
        note_id = str(note["id"])
        parent = _ref(note.get("inReplyTo"))
        # Mastodon gives every note of a thread the same `conversation`, so a reply to one's
        # own post joins the post's conversation; without it, the note or its parent stands in.
        conversation = str(note.get("conversation") or parent or note_id)
        text = str(note.get("content") or "")
        if conversation not in conversations_seen:
            # The outbox is in time order: the first note seen starts the conversation, once,
            # so a re-import never flips a conversation between two descriptions.
            conversations_seen.add(conversation)
            yield ConversationRecord(
                external_id=conversation,
                started_at=created_at,
                title=first_line(_html_to_text(text)) or first_line(str(note.get("summary") or "")),
                channel_id=CHANNEL_ID,
                url=str(note.get("url") or note_id) if parent is None else parent,
            )
        yield InteractionRecord(
            external_id=note_id,
            kind=InteractionKind.REPLY if parent else InteractionKind.POST,
            created_at=created_at,
            author_id=_ref(note.get("attributedTo")) or _ref(activity.get("actor")) or owner,
            channel_id=CHANNEL_ID,
            conversation_id=conversation,
            parent_id=parent,
            text=text,
            url=str(note.get("url") or ""),
            edited_at=_time(note.get("updated")),
            raw=activity,
        )

    def _announce(self, activity: dict[str, Any], owner: str, location: str) -> Iterator[Record]:
        boosted = _ref(activity.get("object"))
        created_at = _time(activity.get("published"))
        if not boosted or created_at is None:
            yield reject(location, "a boost needs an 'object' and a 'published' time", activity)
            return
        yield InteractionRecord(
            external_id=str(activity["id"]),
            kind=InteractionKind.SHARE,
            created_at=created_at,
            author_id=_ref(activity.get("actor")) or owner,
            channel_id=CHANNEL_ID,
            parent_id=boosted,
            # A boost has no page of its own: the boosted post is what there is to open.
            url=boosted,
            raw=activity,
        )

    def _likes(
        self,
        archive: ExportArchive,
        owner: str,
        latest: datetime | None,
        account_created: datetime | None,
    ) -> Iterator[Record]:
        # The archive does not say when a post was favourited. The newest activity in the
        # outbox is the closest date we know the archive reaches, and every like happened by
        # about then; the account's creation date would instead make every like its first act.
        # The guess is marked in raw so reports can leave these dates out.
        when = latest or account_created
        for index, liked in enumerate(self._collection(archive, "likes.json")):
            location = f"likes.json orderedItems[{index}]"
            url = _ref(liked)
            if not url:
                yield reject(location, "a like needs the URL of the liked post", liked)
                continue
            if when is None:
                yield reject(location, "the archive holds no date to give this like", liked)
                continue
            yield InteractionRecord(
                external_id=f"like:{url}",
                kind=InteractionKind.REACTION,
                created_at=when,
                author_id=owner,
                channel_id=CHANNEL_ID,
                parent_id=url,
                text="favourite",
                url=url,
                raw={
                    "object": liked,
                    "date_unknown": True,
                    "date_from": "latest outbox activity" if latest else "account creation",
                },
            )


def _ref(value: Any) -> str | None:
    """The URL an ActivityStreams reference points to: a string or an object's id."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if isinstance(value, str) and value else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None


class _TextExtractor(HTMLParser):
    BREAKS = {"p", "br", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _html_to_text(html: str) -> str:
    """Plain text of a status's HTML, a line per paragraph, for titles."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)
