"""Stack Exchange's public data dump of one site: a folder of Posts.xml, Users.xml, Comments.xml,
Votes.xml and Badges.xml, each a flat list of <row> elements whose attributes are the fields."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from townsquare.community.models import InteractionKind, Platform
from townsquare.connectors.base import Importer, ImportFormatError, first_line, parse_iso, reject
from townsquare.connectors.records import (
    ChannelRecord,
    ConversationRecord,
    IdentityRecord,
    InteractionRecord,
    Record,
)

SITE = "site"
# Read in this order: Posts.xml must come before the files whose rows point at posts.
FILES = ("Users.xml", "Posts.xml", "Comments.xml", "Votes.xml", "Badges.xml")
CHUNK_SIZE = 64 * 1024
COMMUNITY_USER_ID = "-1"

QUESTION, ANSWER = 1, 2
# Posts that are neither questions nor answers: imported as a post starting its own
# conversation, titled by what they are, when they have a body. The empty ones are placeholders
# the Community bot creates with every tag (its wiki is never written): no one did anything, so
# they are skipped, and not rejected, since nothing is wrong with the export.
OTHER_POST_TYPES = {
    3: "Orphaned tag wiki",
    4: "Tag wiki excerpt",
    5: "Tag wiki",
    6: "Moderator nomination",
    7: "Wiki placeholder",
    8: "Privilege wiki",
}
ACCEPTED_BY_ORIGINATOR = 1
VOTE_TYPES = {
    1: "AcceptedByOriginator",
    2: "UpMod",
    3: "DownMod",
    4: "Offensive",
    5: "Favorite",
    6: "Close",
    7: "Reopen",
    8: "BountyStart",
    9: "BountyClose",
    10: "Deletion",
    11: "Undeletion",
    12: "Spam",
    15: "ModeratorReview",
    16: "ApproveEditSuggestion",
}
TAG = re.compile(r"<[^>]+>")


class _RowCollector:
    """A parser target keeping each top-level <row>'s attributes and the line it starts on.

    ElementTree.iterparse reports elements only after a whole chunk is parsed, when the line
    they were on is gone; a target is called by expat as each element starts, and builds no
    tree, so memory holds one chunk's rows whatever the file's size."""

    def __init__(self) -> None:
        self.parser: DefusedXMLParser | None = None
        self.root: str | None = None
        self.root_line = 0
        self.rows: list[tuple[int, dict[str, str]]] = []
        self._depth = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self._depth += 1
        line = self.parser.parser.CurrentLineNumber if self.parser is not None else 0
        if self._depth == 1:
            self.root, self.root_line = tag, line
        elif self._depth == 2 and tag == "row":
            self.rows.append((line, attrib))

    def end(self, tag: str) -> None:
        self._depth -= 1

    def close(self) -> None:
        return None


class StackExchangeImporter(Importer):
    platform = Platform.STACKEXCHANGE
    options_help = {
        "site": "the site's display name (default: the folder's name)",
        "url": "the site's base URL, e.g. https://bicycles.meta.stackexchange.com, "
        "to link posts and users",
    }

    def __init__(self, path: Path, options: Mapping[str, str] | None = None) -> None:
        super().__init__(path, options)
        self.base_url = self.options.get("url", "").strip().rstrip("/")
        # Keyed by int, as the dump's largest sites have tens of millions of posts: the post
        # starting each post's conversation (a question for an answer, the post itself
        # otherwise), and the author of each question, the only one who can accept its answers.
        self._conversation_of: dict[int, int] = {}
        self._question_owner: dict[int, str] = {}
        self._named_authors: set[str] = set()

    def default_source_name(self) -> str:
        # The folder's full name: a dump unpacked as "bicycles.meta.stackexchange.com" keeps it.
        return f"{self.platform}:{self.path.resolve().name}"

    def records(self) -> Iterator[Record]:
        if not self.path.is_dir():
            raise ImportFormatError(
                self.path, None, "expected the folder of one site's unpacked data dump"
            )
        # Dumps unpacked on case-insensitive systems or by other tools vary in case.
        present = {p.name.lower(): p for p in self.path.iterdir() if p.is_file()}
        files = {name: present[name.lower()] for name in FILES if name.lower() in present}
        if "Posts.xml" not in files:
            raise ImportFormatError(
                self.path / "Posts.xml", None, "expected Posts.xml in a Stack Exchange data dump"
            )
        self.progress.total = sum(p.stat().st_size for p in files.values())

        yield ChannelRecord(
            external_id=SITE,
            name=self.options.get("site") or self.path.resolve().name,
            url=self.base_url,
        )
        readers = {
            "Users.xml": self._user,
            "Posts.xml": self._post,
            "Comments.xml": self._comment,
            "Votes.xml": self._vote,
            "Badges.xml": self._badge,
        }
        for name, path in files.items():
            read_row = readers[name]
            for line, attrs in self._rows(path, name.removesuffix(".xml").lower()):
                location = f"{name} line {line}"
                if attrs.get("Id"):
                    location += f" (Id={attrs['Id']})"
                try:
                    yield from read_row(attrs)
                except _BadRow as e:
                    yield reject(location, str(e), attrs)

    def _rows(self, path: Path, root: str) -> Iterator[tuple[int, dict[str, str]]]:
        collector = _RowCollector()
        parser = DefusedXMLParser(target=collector, forbid_dtd=True)
        collector.parser = parser
        with path.open("rb") as f:
            while True:
                chunk = f.read(CHUNK_SIZE)
                try:
                    if chunk:
                        parser.feed(chunk)
                    else:
                        parser.close()
                except ParseError as e:
                    line, column = e.position
                    problem = str(e).rsplit(": line", 1)[0]
                    raise ImportFormatError(
                        path,
                        f"line {line} column {column}",
                        f"expected well-formed XML ({problem})",
                    ) from None
                except DefusedXmlException:
                    raise ImportFormatError(
                        path, None, "expected a data dump without DTD or entity declarations"
                    ) from None
                if collector.root is not None and collector.root != root:
                    raise ImportFormatError(
                        path,
                        f"line {collector.root_line}",
                        f"expected a <{root}> root element, not <{collector.root}>",
                    )
                yield from collector.rows
                collector.rows.clear()
                self.progress.advance(len(chunk))
                if not chunk:
                    return

    # One reader per file: each yields the records of one row or raises _BadRow.

    def _user(self, attrs: dict[str, str]) -> Iterator[Record]:
        user_id = _required(attrs, "Id", "a user")
        name = attrs.get("DisplayName", "")
        yield IdentityRecord(
            external_id=user_id,
            handle=name,
            display_name=name,
            profile_url=f"{self.base_url}/users/{user_id}" if self.base_url else "",
            is_bot=user_id == COMMUNITY_USER_ID,
            raw=attrs,
        )

    def _post(self, attrs: dict[str, str]) -> Iterator[Record]:
        post_id = _integer(attrs, "Id", "a post")
        post_type = _integer(attrs, "PostTypeId", "a post")
        created_at = _date(attrs, "CreationDate", "a post")
        body = attrs.get("Body", "")
        author = _author(attrs, "OwnerUserId", "OwnerDisplayName")

        if post_type == ANSWER:
            question_id = _integer(attrs, "ParentId", "an answer")
            self._conversation_of[post_id] = question_id
            kind = InteractionKind.ANSWER
            parent: str | None = f"post:{question_id}"
            url = f"{self.base_url}/a/{post_id}" if self.base_url else ""
            yield from self._named_author(attrs, "OwnerUserId", "OwnerDisplayName")
        else:
            title = attrs.get("Title", "")
            if post_type != QUESTION:
                label = OTHER_POST_TYPES.get(post_type, f"Post of type {post_type}")
                if not body.strip() and not title:
                    return
                plain = first_line(" ".join(html.unescape(TAG.sub(" ", body)).split()))
                title = title or (f"{label}: {plain}" if plain else label)
            elif author:
                self._question_owner[post_id] = author
            self._conversation_of[post_id] = post_id
            question_id = post_id
            kind = InteractionKind.POST
            parent = None
            url = f"{self.base_url}/q/{post_id}" if self.base_url else ""
            yield from self._named_author(attrs, "OwnerUserId", "OwnerDisplayName")
            yield ConversationRecord(
                external_id=f"post:{post_id}",
                started_at=created_at,
                title=title,
                channel_id=SITE,
                url=url,
            )

        yield InteractionRecord(
            external_id=f"post:{post_id}",
            kind=kind,
            created_at=created_at,
            author_id=author,
            channel_id=SITE,
            conversation_id=f"post:{question_id}",
            parent_id=parent,
            text=body,
            url=url,
            edited_at=_optional_date(attrs, "LastEditDate"),
            raw=attrs,
        )

    def _comment(self, attrs: dict[str, str]) -> Iterator[Record]:
        comment_id = _required(attrs, "Id", "a comment")
        post_id = _integer(attrs, "PostId", "a comment")
        created_at = _date(attrs, "CreationDate", "a comment")
        yield from self._named_author(attrs, "UserId", "UserDisplayName")
        yield InteractionRecord(
            external_id=f"comment:{comment_id}",
            kind=InteractionKind.COMMENT,
            created_at=created_at,
            author_id=_author(attrs, "UserId", "UserDisplayName"),
            channel_id=SITE,
            conversation_id=self._conversation(post_id),
            parent_id=f"post:{post_id}",
            text=attrs.get("Text", ""),
            url=f"{self.base_url}/posts/comments/{comment_id}" if self.base_url else "",
            raw=attrs,
        )

    def _vote(self, attrs: dict[str, str]) -> Iterator[Record]:
        vote_id = _required(attrs, "Id", "a vote")
        post_id = _integer(attrs, "PostId", "a vote")
        vote_type = _integer(attrs, "VoteTypeId", "a vote")
        # The dump keeps only the day of a vote, as midnight: that is the best time there is.
        created_at = _date(attrs, "CreationDate", "a vote")
        conversation = self._conversation(post_id)
        if vote_type == ACCEPTED_BY_ORIGINATOR:
            # The dump hides who accepted; only the asker can, so the question's owner did.
            question_id = self._conversation_of.get(post_id)
            author = self._question_owner.get(question_id) if question_id is not None else None
            kind = InteractionKind.ACCEPTED
        else:
            # Voters are anonymous except for favourites and bounties.
            author = attrs.get("UserId") or None
            kind = InteractionKind.VOTE
        yield InteractionRecord(
            external_id=f"vote:{vote_id}",
            kind=kind,
            created_at=created_at,
            author_id=author,
            channel_id=SITE,
            # Like a reaction, a vote belongs to the thread of the post it is on.
            conversation_id=conversation,
            parent_id=f"post:{post_id}",
            text=VOTE_TYPES.get(vote_type, f"VoteType{vote_type}"),
            raw=attrs,
        )

    def _badge(self, attrs: dict[str, str]) -> Iterator[Record]:
        badge_id = _required(attrs, "Id", "a badge")
        yield InteractionRecord(
            external_id=f"badge:{badge_id}",
            kind=InteractionKind.BADGE,
            created_at=_date(attrs, "Date", "a badge"),
            author_id=_required(attrs, "UserId", "a badge"),
            channel_id=SITE,
            text=_required(attrs, "Name", "a badge"),
            raw=attrs,
        )

    def _conversation(self, post_id: int) -> str | None:
        # A post missing from the dump (deleted) leaves what pointed at it outside any thread.
        question_id = self._conversation_of.get(post_id)
        return f"post:{question_id}" if question_id is not None else None

    def _named_author(self, attrs: dict[str, str], id_key: str, name_key: str) -> Iterator[Record]:
        """Describe, once per run, an author known only by name: a deleted account."""
        if attrs.get(id_key) or not attrs.get(name_key):
            return
        name = attrs[name_key]
        if name not in self._named_authors:
            self._named_authors.add(name)
            yield IdentityRecord(external_id=f"name:{name}", handle=name, display_name=name)


class _BadRow(Exception):
    """A row the importer cannot use; the message says why."""


def _required(attrs: dict[str, str], key: str, what: str) -> str:
    value = attrs.get(key, "").strip()
    if not value:
        raise _BadRow(f"{what} has no {key}")
    return value


def _integer(attrs: dict[str, str], key: str, what: str) -> int:
    value = _required(attrs, key, what)
    try:
        return int(value)
    except ValueError:
        raise _BadRow(f"{what} needs an integer {key}, not {value!r}") from None


def _date(attrs: dict[str, str], key: str, what: str) -> datetime:
    value = _required(attrs, key, what)
    try:
        return parse_iso(value)
    except ValueError:
        raise _BadRow(f"{what} needs an ISO 8601 {key}, not {value!r}") from None


def _optional_date(attrs: dict[str, str], key: str) -> datetime | None:
    # An unreadable edit time loses only that detail, not the post.
    try:
        return parse_iso(attrs[key]) if attrs.get(key) else None
    except ValueError:
        return None


def _author(attrs: dict[str, str], id_key: str, name_key: str) -> str | None:
    if attrs.get(id_key):
        return attrs[id_key]
    if attrs.get(name_key):
        return f"name:{attrs[name_key]}"
    return None
