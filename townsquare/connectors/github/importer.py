"""GitHub issues and pull requests as raw REST API JSON with their timeline events: a
github-metadata-backup folder (issues/<n>.json, pulls/<n>.json) or one JSON array of issues."""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import ijson

from townsquare.community.models import InteractionKind, Platform
from townsquare.connectors.base import Importer, ImportFormatError, first_line, parse_iso, reject
from townsquare.connectors.jsonstream import json_events
from townsquare.connectors.records import (
    ChannelRecord,
    ConversationRecord,
    IdentityRecord,
    InteractionRecord,
    Record,
)

ENTRY_FOLDERS = ("issues", "pulls")
ENTRY_FILE = re.compile(r"^(\d+)\.json$")
# Lists some tools embed in an issue object; the REST API's own `comments` is a count.
EMBEDDED_LISTS = ("timeline", "events", "comments", "comments_data", "review_comments")
REPO_FROM_API = re.compile(r"/repos/([^/]+/[^/]+?)/?$")
REPO_FROM_HTML = re.compile(r"^(https?://[^/]+/([^/]+/[^/]+))/(?:issues|pull|pulls)/\d+")
# GitHub records these for the person notified, not for something they did: the actor of
# "mentioned" is who was mentioned. Attributing them would make people who never took part
# look active, so they are kept as authorless events (the actor stays in raw).
PASSIVE_EVENTS = {"subscribed", "unsubscribed", "mentioned"}


class GitHubImporter(Importer):
    platform = Platform.GITHUB
    options_help = {"repo": "owner/name of the repository (default: read from the issues)"}

    def records(self) -> Iterator[Record]:
        self._users_seen: set[str] = set()
        self._repo: str | None = self.options.get("repo") or None
        self._channel_yielded = False
        if self.path.is_dir():
            yield from self._folder()
        else:
            yield from self._array_file()

    # Layouts

    def _folder(self) -> Iterator[Record]:
        files: list[tuple[str, int, Path]] = []
        for folder in ENTRY_FOLDERS:
            if (self.path / folder).is_dir():
                for f in (self.path / folder).iterdir():
                    match = ENTRY_FILE.match(f.name)
                    if match and f.is_file():
                        files.append((folder, int(match.group(1)), f))
        if not files:
            raise ImportFormatError(
                self.path,
                None,
                "expected a GitHub backup folder with issues/<number>.json or pulls/<number>.json "
                "files, or a JSON file holding an array of issues",
            )
        files.sort()
        self.progress.total = sum(f.stat().st_size for _, _, f in files)
        for folder, _, f in files:
            location = f"{folder}/{f.name}"
            try:
                entry = json.loads(f.read_bytes())
            except json.JSONDecodeError as e:
                raise ImportFormatError(
                    f, f"line {e.lineno} column {e.colno}", f"expected JSON ({e.msg})"
                ) from None
            except UnicodeDecodeError:
                raise ImportFormatError(f, None, "expected UTF-8 JSON") from None
            yield from self._entry(entry, location)
            self.progress.advance(f.stat().st_size)

    def _array_file(self) -> Iterator[Record]:
        self.progress.total = self.path.stat().st_size
        with self.path.open("rb") as f:
            head = f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head.startswith(b"["):
            raise ImportFormatError(
                self.path, "line 1", "expected a JSON array of GitHub issue objects"
            )
        events = json_events(lambda: self.path.open("rb"), self.path, self.progress)
        for index, entry in enumerate(ijson.items(events, "item")):
            yield from self._entry(entry, f"{self.path.name}[{index}]")

    # One issue or pull request with everything attached to it

    def _entry(self, entry: Any, location: str) -> Iterator[Record]:
        if not isinstance(entry, dict):
            yield reject(location, "expected an issue object", entry)
            return
        # github-metadata-backup wraps the REST object: {"type", "issue"|"pull", "events"...}.
        wrapped = entry.get("issue") if isinstance(entry.get("issue"), dict) else None
        wrapped = wrapped or (entry.get("pull") if isinstance(entry.get("pull"), dict) else None)
        issue: dict[str, Any] = wrapped if wrapped is not None else entry
        number = issue.get("number")
        if not isinstance(number, int) or isinstance(number, bool):
            yield reject(location, "an issue needs a numeric 'number'", _without_lists(issue))
            return
        try:
            created_at = parse_iso(str(issue["created_at"]))
        except (KeyError, ValueError):
            yield reject(location, "an issue needs a 'created_at' time", _without_lists(issue))
            return

        repo = _repo_of(issue)
        if self._repo is None:
            self._repo = repo
        elif repo and repo != self._repo and not self.options.get("repo"):
            yield reject(
                location,
                f"the issue belongs to {repo}, not {self._repo}: import each repository "
                "as its own source",
                _without_lists(issue),
            )
            return
        if self._repo is None:
            yield reject(
                location,
                "cannot tell the repository: pass --option repo=owner/name",
                _without_lists(issue),
            )
            return
        if not self._channel_yielded:
            self._channel_yielded = True
            yield ChannelRecord(
                external_id=self._repo, name=self._repo, url=_repo_url(issue, self._repo)
            )

        conversation = f"issue:{number}"
        author = yield from self._user(issue.get("user"))
        yield ConversationRecord(
            external_id=conversation,
            started_at=created_at,
            title=str(issue.get("title") or ""),
            channel_id=self._repo,
            url=str(issue.get("html_url") or ""),
        )
        # The REST issue has no "last edited" time: updated_at also moves with every comment,
        # label or close, so it cannot tell an edit.
        yield InteractionRecord(
            external_id=conversation,
            kind=InteractionKind.POST,
            created_at=created_at,
            author_id=author,
            channel_id=self._repo,
            conversation_id=conversation,
            text=str(issue.get("body") or ""),
            url=str(issue.get("html_url") or ""),
            raw=_without_lists(issue),
        )

        comments_seen: set[str] = set()
        timeline = _list(entry, "events") or _list(entry, "timeline")
        if wrapped is not None:
            comment_lists = [_list(entry, "comments")]
        else:
            comment_lists = [_list(issue, "comments"), _list(issue, "comments_data")]
        for index, event in enumerate(timeline):
            yield from self._event(event, number, f"{location} events[{index}]", comments_seen)
        for comments in comment_lists:
            for index, comment in enumerate(comments):
                yield from self._comment_object(
                    comment, number, f"{location} comments[{index}]", comments_seen
                )
        for index, comment in enumerate(_list(issue, "review_comments")):
            yield from self._comment_object(
                comment, number, f"{location} review_comments[{index}]", comments_seen
            )

    def _event(
        self, event: Any, number: int, location: str, comments_seen: set[str]
    ) -> Iterator[Record]:
        if not isinstance(event, dict) or not event.get("event"):
            yield reject(location, "a timeline event needs an 'event' name", event)
            return
        name = str(event["event"])
        if name == "commented":
            yield from self._comment_object(event, number, location, comments_seen)
            return
        if name == "line-commented":
            # A pull request's review comments on one line, grouped; each is a comment.
            for index, comment in enumerate(_list(event, "comments")):
                yield from self._comment_object(
                    comment, number, f"{location} comments[{index}]", comments_seen
                )
            return
        when = event.get("created_at") or event.get("submitted_at")
        if name == "committed":
            when = when or (event.get("committer") or {}).get("date")
            when = when or (event.get("author") or {}).get("date")
        try:
            created_at = parse_iso(str(when))
        except ValueError:
            yield reject(location, f"the {name} event has no usable time", event)
            return

        actor = event.get("actor") if isinstance(event.get("actor"), dict) else None
        actor = actor or (event.get("user") if isinstance(event.get("user"), dict) else None)
        if name in PASSIVE_EVENTS:
            author = None
        else:
            author = yield from self._user(actor)

        if event.get("id"):
            external_id = f"event:{event['id']}"
        elif event.get("node_id"):
            external_id = f"event:{event['node_id']}"
        elif name == "committed" and event.get("sha"):
            external_id = f"event:{number}:committed:{event['sha']}"
        else:
            # Cross-references and a few others carry no id: what they are makes one.
            who = (actor or {}).get("id") or (actor or {}).get("login") or ""
            external_id = f"event:{number}:{name}:{when}:{who}"

        conversation = f"issue:{number}"
        yield InteractionRecord(
            external_id=external_id,
            kind=InteractionKind.EVENT,
            created_at=created_at,
            author_id=author,
            channel_id=self._repo,
            conversation_id=conversation,
            parent_id=conversation,
            text=_event_text(name, event, actor),
            url=str(event.get("html_url") or ""),
            raw=event,
        )

    def _comment_object(
        self, comment: Any, number: int, location: str, comments_seen: set[str]
    ) -> Iterator[Record]:
        if not isinstance(comment, dict) or not comment.get("id"):
            yield reject(location, "a comment needs an 'id'", comment)
            return
        # Review comments on a pull request's diff are numbered apart from issue comments.
        is_review = "pull_request_review_id" in comment or "diff_hunk" in comment
        external_id = f"{'review_comment' if is_review else 'comment'}:{comment['id']}"
        if external_id in comments_seen:
            return
        comments_seen.add(external_id)
        try:
            created_at = parse_iso(str(comment["created_at"]))
        except (KeyError, ValueError):
            yield reject(location, "a comment needs a 'created_at' time", comment)
            return
        edited_at: datetime | None = None
        updated = comment.get("updated_at")
        if updated and updated != comment.get("created_at"):
            try:
                edited_at = parse_iso(str(updated))
            except ValueError:
                edited_at = None
        user = comment.get("user") if isinstance(comment.get("user"), dict) else None
        user = user or (comment.get("actor") if isinstance(comment.get("actor"), dict) else None)
        author = yield from self._user(user)
        conversation = f"issue:{number}"
        parent = conversation
        if is_review and comment.get("in_reply_to_id"):
            parent = f"review_comment:{comment['in_reply_to_id']}"
        yield InteractionRecord(
            external_id=external_id,
            kind=InteractionKind.COMMENT,
            created_at=created_at,
            author_id=author,
            channel_id=self._repo,
            conversation_id=conversation,
            parent_id=parent,
            text=str(comment.get("body") or ""),
            url=str(comment.get("html_url") or ""),
            edited_at=edited_at,
            raw=comment,
        )

    def _user(self, user: Any) -> Generator[Record, None, str | None]:
        """Describe a user the first time they appear; the value is their external id."""
        if not isinstance(user, dict) or user.get("id") is None:
            return None
        external_id = str(user["id"])
        if external_id not in self._users_seen:
            self._users_seen.add(external_id)
            login = str(user.get("login") or "")
            yield IdentityRecord(
                external_id=external_id,
                handle=login,
                display_name=login,
                profile_url=str(user.get("html_url") or ""),
                is_bot=user.get("type") == "Bot" or login.endswith("[bot]"),
                raw=user,
            )
        return external_id


def _list(container: dict[str, Any], key: str) -> list[Any]:
    value = container.get(key)
    return value if isinstance(value, list) else []


def _without_lists(issue: dict[str, Any]) -> dict[str, Any]:
    """The issue as GitHub gave it, minus comment and event lists stored as their own rows."""
    return {k: v for k, v in issue.items() if not (k in EMBEDDED_LISTS and isinstance(v, list))}


def _repo_of(issue: dict[str, Any]) -> str | None:
    match = REPO_FROM_API.search(str(issue.get("repository_url") or ""))
    if match:
        return match.group(1)
    base = issue.get("base")
    if isinstance(base, dict) and isinstance(base.get("repo"), dict):
        full_name = base["repo"].get("full_name")
        if full_name:
            return str(full_name)
    match = REPO_FROM_HTML.match(str(issue.get("html_url") or ""))
    return match.group(2) if match else None


def _repo_url(issue: dict[str, Any], repo: str) -> str:
    match = REPO_FROM_HTML.match(str(issue.get("html_url") or ""))
    if match and match.group(2) == repo:
        return match.group(1)
    return f"https://github.com/{repo}"


def _login(user: Any) -> str:
    return str(user.get("login") or "") if isinstance(user, dict) else ""


def _event_text(name: str, event: dict[str, Any], actor: dict[str, Any] | None) -> str:
    """The event's name with what it was about: the label, the assignee, the new title..."""
    detail = ""
    if name in ("labeled", "unlabeled"):
        detail = str((event.get("label") or {}).get("name") or "")
    elif name in ("milestoned", "demilestoned"):
        detail = str((event.get("milestone") or {}).get("title") or "")
    elif name in ("assigned", "unassigned"):
        detail = _login(event.get("assignee"))
    elif name in ("review_requested", "review_request_removed"):
        detail = _login(event.get("requested_reviewer")) or str(
            (event.get("requested_team") or {}).get("name") or ""
        )
    elif name == "renamed":
        rename = event.get("rename") or {}
        detail = f"from {rename.get('from', '')!r} to {rename.get('to', '')!r}"
    elif name == "cross-referenced":
        source = (event.get("source") or {}).get("issue") or {}
        detail = str(source.get("html_url") or "")
    elif name == "referenced" and event.get("commit_id"):
        detail = f"in commit {str(event['commit_id'])[:12]}"
    elif name == "committed":
        detail = f"{str(event.get('sha') or '')[:12]} {first_line(str(event.get('message') or ''))}"
    elif name == "reviewed":
        state = str(event.get("state") or "").lower()
        body = str(event.get("body") or "")
        return f"reviewed ({state})" + (f"\n\n{body}" if body else "")
    elif name in PASSIVE_EVENTS and actor:
        detail = "@" + _login(actor)
    elif name == "closed" and event.get("state_reason"):
        detail = str(event["state_reason"])
    return f"{name} {detail}".strip()
