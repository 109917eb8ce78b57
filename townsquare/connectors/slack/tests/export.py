"""Write small Slack exports for tests, in the exact layout Slack produces."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def write_slack_export(
    root: Path,
    messages: dict[str, list[dict[str, Any]]],
    users: list[dict[str, Any]] | None = None,
) -> Path:
    """messages: channel name → messages; each message lands in the day file of its ts."""
    root.mkdir(parents=True, exist_ok=True)
    users = users or [{"id": "U1", "name": "ada", "profile": {"real_name": "Ada"}}]
    (root / "users.json").write_text(json.dumps(users))
    channels = [
        {"id": f"C{i}", "name": name, "created": "1433558319"}
        for i, name in enumerate(sorted(messages), start=1)
    ]
    (root / "channels.json").write_text(json.dumps(channels))
    for name, items in messages.items():
        by_day: dict[str, list[dict[str, Any]]] = {}
        for m in items:
            day = datetime.fromtimestamp(float(m["ts"]), tz=UTC).strftime("%Y-%m-%d")
            by_day.setdefault(day, []).append(m)
        (root / name).mkdir(exist_ok=True)
        for day, day_messages in by_day.items():
            (root / name / f"{day}.json").write_text(json.dumps(day_messages, indent=1))
    return root
