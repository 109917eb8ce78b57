"""Fixtures for the page tests: staff personas, the real Slack sample, and small exports."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from townsquare.connectors.models import ImportRun
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.front.tests.exports import SlackExport
from townsquare.lib.testing import import_export, make_staff
from townsquare.listening.pipeline import enrich_pending


@pytest.fixture
def alice(db: None) -> User:
    return make_staff("alice", superuser=True)


@pytest.fixture
def alice_client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture
def charlie(db: None) -> User:
    """A viewer: may read every page, may not correct labels, manage terms or change anything."""
    return make_staff("charlie", role="viewer")


@pytest.fixture
def outsider(db: None) -> User:
    """Signed in, but with no staff role: may see nothing."""
    return make_staff("oscar", staff=False)


DUMMY_TASKS = "django_tasks.backends.dummy.DummyBackend"

# A small community whose messages each carry one label a manager must see.
LABELLED_USERS = [
    {"id": "U1", "name": "ada", "profile": {"real_name": "Ada Lovelace"}},
    {"id": "U2", "name": "bob", "profile": {"real_name": "Bob Builder"}},
    {"id": "U3", "name": "chloe", "profile": {"real_name": "Chloé Martin"}},
    {"id": "U4", "name": "promo", "profile": {"real_name": "Prize Desk"}},
]
QUESTION = "Where can I find the slides from the last meetup?"
ANSWER = "Here they are, pinned at the top of the channel after the Houston meetup"
THANKS = "Thanks <@U2>, that helped a lot!"
NEGATIVE = "This update is terrible, everything is broken and I hate it."
FRENCH = "Ce tableau de bord est vraiment très utile pour notre équipe"
SPAM = "WIN A FREE IPHONE!!! Click here now http://prize.example to claim your prize $$$"


@pytest.fixture
def labelled(db: None, tmp_path: Path) -> ImportRun:
    """The community imported through the real importer, then enriched by the pipeline."""
    root = "1700000000.000100"
    general = [
        {"type": "message", "user": "U1", "text": QUESTION, "ts": root},
        {"type": "message", "user": "U2", "text": ANSWER, "ts": "1700000060.000100",
         "thread_ts": root},
        {"type": "message", "user": "U1", "text": THANKS, "ts": "1700000120.000100",
         "thread_ts": root},
    ]  # fmt: skip
    random = [
        {"type": "message", "user": "U3", "text": NEGATIVE, "ts": "1700001000.000100"},
        {"type": "message", "user": "U3", "text": FRENCH, "ts": "1700002000.000100"},
        {"type": "message", "user": "U4", "text": SPAM, "ts": "1700003000.000100"},
    ]
    export = write_slack_export(
        tmp_path / "labelled", {"general": general, "random": random}, LABELLED_USERS
    )
    # Enrichment runs below, in this process: the import must not queue it.
    with override_settings(TASKS={"default": {"BACKEND": DUMMY_TASKS}}):
        run = import_export("slack", export, source="labelled")
    enrich_pending()
    return run


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
