"""An import killed half-way (SIGKILL, no clean-up) leaves a consistent database, and the
next run of the same export completes it without duplicates."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from townsquare.connectors.slack.tests.export import write_slack_export

MESSAGES = 30_000


def big_export(root: Path) -> Path:
    users = [{"id": f"U{i}", "name": f"user{i}"} for i in range(200)]
    channels: dict[str, list[dict[str, Any]]] = {"general": [], "help": []}
    start = 1_700_000_000
    for i in range(MESSAGES):
        ts = f"{start + i * 60}.{i:06d}"
        message: dict[str, Any] = {
            "type": "message",
            "user": f"U{i % 200}",
            "text": f"m{i}",
            "ts": ts,
        }
        if i % 10 == 9:  # every tenth message answers an earlier one of its channel
            message["thread_ts"] = f"{start + (i - 2) * 60}.{i - 2:06d}"
        channels["general" if i % 2 == 0 else "help"].append(message)
    return write_slack_export(root, channels, users)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[dict[str, str], Callable[[str], int]]]:
    """A database of its own, outside the test database, for processes we start and kill."""
    env = {
        **os.environ,
        "TOWNSQUARE_DATA_DIR": str(tmp_path / "data"),
        "TOWNSQUARE_IMPORT_BATCH_SIZE": "500",
    }
    base_url = os.environ.get("DATABASE_URL", "")
    if base_url.startswith("postgres"):
        name = "townsquare_resume_test"
        with psycopg.connect(base_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
            admin.execute(f"CREATE DATABASE {name}")
        url = base_url.rsplit("/", 1)[0] + "/" + name
        env["DATABASE_URL"] = url

        def query(sql: str) -> int:
            with psycopg.connect(url) as conn:
                row = conn.execute(sql).fetchone()
                return int(row[0]) if row else 0

        yield env, query
        with psycopg.connect(base_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    else:
        env.pop("DATABASE_URL", None)
        path = tmp_path / "data" / "townsquare.sqlite3"

        def query(sql: str) -> int:
            conn = sqlite3.connect(path, timeout=30)
            try:
                return int(conn.execute(sql).fetchone()[0])
            finally:
                conn.close()

        yield env, query


@pytest.mark.slow
def test_it_completes_an_import_killed_half_way(
    tmp_path: Path, database: tuple[dict[str, str], Callable[[str], int]]
) -> None:
    env, query = database
    export = big_export(tmp_path / "export")
    townsquare = str(Path(sys.executable).parent / "townsquare")
    subprocess.run([townsquare, "migrate", "-v0"], env=env, check=True)

    victim = subprocess.Popen(
        [townsquare, "import", "slack", str(export), "--no-progress"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    written = 0
    while time.monotonic() < deadline and victim.poll() is None:
        try:
            written = query("SELECT COUNT(*) FROM community_interaction")
        except (sqlite3.OperationalError, psycopg.Error):
            written = 0  # tables not there yet, or the database is busy
        if written >= 3000:
            break
        time.sleep(0.05)
    assert victim.poll() is None, "the import ended before it could be killed; use more messages"
    victim.send_signal(signal.SIGKILL)
    victim.wait()

    partial = query("SELECT COUNT(*) FROM community_interaction")
    assert 0 < partial < MESSAGES
    # Whole batches only: every written message has its author and conversation.
    assert query("SELECT COUNT(*) FROM community_interaction WHERE member_id IS NULL") == 0
    assert query("SELECT COUNT(*) FROM community_interaction WHERE conversation_id IS NULL") == 0
    assert query("SELECT COUNT(*) FROM connectors_importrun WHERE status = 'running'") == 1

    subprocess.run(
        [townsquare, "import", "slack", str(export), "--no-progress"],
        env=env,
        check=True,
        capture_output=True,
    )

    assert query("SELECT COUNT(*) FROM community_interaction") == MESSAGES
    assert query("SELECT COUNT(DISTINCT external_id) FROM community_interaction") == MESSAGES
    assert query("SELECT COUNT(*) FROM community_conversation") == MESSAGES - MESSAGES // 10
    assert query("SELECT COUNT(*) FROM community_identity") == 200
    assert (
        query(
            "SELECT COUNT(*) FROM community_interaction WHERE kind = 'reply' AND parent_id IS NULL"
        )
        == 0
    )
    assert query("SELECT COUNT(*) FROM connectors_importrun WHERE status = 'interrupted'") == 1
    assert query("SELECT COUNT(*) FROM connectors_importrun WHERE status = 'succeeded'") == 1
