"""Small Slack exports for the pulse tests, imported and enriched through the real path."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.lib.testing import import_export
from townsquare.listening.pipeline import enrich_pending

USERS: list[dict[str, Any]] = [
    {"id": "U1", "name": "ada", "profile": {"real_name": "Ada"}},
    {"id": "U2", "name": "bob", "profile": {"real_name": "Bob"}},
    {"id": "U3", "name": "cleo", "profile": {"real_name": "Cleo"}},
    {"id": "U4", "name": "dan", "profile": {"real_name": "Dan"}},
    {"id": "UB", "name": "deploybot", "is_bot": True, "profile": {"real_name": "Deploy Bot"}},
]

POSITIVE = "I love this project, great work everyone, it is wonderful"
NEGATIVE = "This is terrible, the build is broken again and I hate it"
NEUTRAL = "The meeting is on Thursday in room four"


def ts(day: str, hour: int = 12, minute: int = 0) -> float:
    """A Slack timestamp on a UTC day written YYYY-MM-DD."""
    moment = datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)
    return moment.timestamp()


def message(
    when: float, user: str, text: str, reactions: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    m: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": f"{when:.6f}"}
    if reactions:
        m["reactions"] = [
            {"name": name, "users": users, "count": len(users)} for name, users in reactions.items()
        ]
    return m


def import_and_enrich(root: Path, channels: dict[str, list[dict[str, Any]]]) -> None:
    import_export("slack", write_slack_export(root, channels, USERS), source="town")
    enrich_pending()
