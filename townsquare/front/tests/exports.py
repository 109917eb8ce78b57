"""Small exports for tests that need precise data: a Slack export written to disk, or typed
records sent through the real writer for platforms whose importer is not needed."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.utils import timezone

from townsquare.connectors.models import ImportRun, RunStatus
from townsquare.connectors.records import Record
from townsquare.connectors.services import get_or_create_source
from townsquare.connectors.writer import Writer


class SlackExport:
    """Collects users, channels and messages, then writes users.json, channels.json and one
    JSON file per channel and day, as Slack's export does."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.users: list[dict[str, Any]] = []
        self.channels: list[dict[str, Any]] = []
        self.messages: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)

    def user(self, user_id: str, name: str, real_name: str, **extra: Any) -> None:
        profile = {"real_name": real_name, "display_name": extra.pop("display_name", "")}
        profile.update(extra.pop("profile", {}))
        self.users.append({"id": user_id, "name": name, "profile": profile, **extra})

    def channel(self, channel_id: str, name: str, purpose: str = "") -> None:
        self.channels.append(
            {
                "id": channel_id,
                "name": name,
                "created": 1_500_000_000,
                "purpose": {"value": purpose},
            }
        )

    def message(
        self,
        channel: str,
        user: str,
        text: str,
        ts: float,
        *,
        thread_ts: str | None = None,
        reactions: dict[str, list[str]] | None = None,
        **extra: Any,
    ) -> str:
        """Adds a message to a channel (by name); returns its ts, for threading replies."""
        ts_text = f"{ts:.6f}"
        message: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": ts_text}
        if thread_ts:
            message["thread_ts"] = thread_ts
        if reactions:
            message["reactions"] = [
                {"name": name, "users": people, "count": len(people)}
                for name, people in reactions.items()
            ]
        message.update(extra)
        day = datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d")
        self.messages[(channel, day)].append(message)
        return ts_text

    def raw_message(self, channel: str, day: str, payload: Any) -> None:
        self.messages[(channel, day)].append(payload)

    def write(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "users.json").write_text(json.dumps(self.users))
        (self.root / "channels.json").write_text(json.dumps(self.channels))
        for (channel, day), messages in self.messages.items():
            folder = self.root / channel
            folder.mkdir(exist_ok=True)
            (folder / f"{day}.json").write_text(json.dumps(messages))
        return self.root


def write_records(*, source: str, platform: str, records: list[Record]) -> ImportRun:
    """Sends records through the one writer as an import run would, without an importer."""
    target = get_or_create_source(name=source, platform=platform)
    run = ImportRun.objects.create(source=target, format=platform, path=f"test:{source}")
    writer = Writer(run=run, source=target)
    for record in records:
        writer.add(record)
    writer.finish()
    run.status = RunStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    return run
