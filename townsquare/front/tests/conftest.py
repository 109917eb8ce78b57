"""Fixtures for the page tests: staff personas, the real Slack sample, and small exports."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from townsquare.connectors.models import ImportRun
from townsquare.front.tests.exports import SlackExport
from townsquare.lib.testing import import_export, make_staff


@pytest.fixture
def alice(db: None) -> User:
    return make_staff("alice", superuser=True)


@pytest.fixture
def alice_client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture
def slack_sample(db: None, shared_data: Path) -> ImportRun:
    return import_export("slack", shared_data / "slack_houstondatavis")


@pytest.fixture
def two_workspaces(db: None, tmp_path: Path) -> list[ImportRun]:
    """30 members in each of two Slack workspaces, each with messages, threads and reactions:
    enough rows that a query per row would show in the pinned query counts."""
    runs = []
    for workspace in ("north", "south"):
        export = SlackExport(tmp_path / workspace)
        users = [f"U{workspace[0].upper()}{n:02d}" for n in range(30)]
        for n, user in enumerate(users):
            export.user(user, f"{workspace}-user-{n}", f"{workspace.title()} Person {n}")
        for channel in ("general", "help", "random"):
            export.channel(f"C{workspace[0].upper()}{channel}", channel)
        ts = 1_600_000_000
        for n, user in enumerate(users):
            ts += 60
            channel = ("general", "help", "random")[n % 3]
            root = export.message(
                channel,
                user,
                f"Message {n} from {user}",
                ts,
                reactions={"thumbsup": users[(n + 1) % 30 : (n + 1) % 30 + 2]},
            )
            export.message(
                channel, users[(n + 1) % 30], f"<@{user}> Reply to {n}", ts + 1, thread_ts=root
            )
        export.write()
        runs.append(import_export("slack", export.root, source=workspace))
    return runs
