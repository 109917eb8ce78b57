"""A small community with a toxic reply, a spam post and calm messages, imported through the
real importer and enriched by the pipeline; and the staff who moderate it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from townsquare.community.models import Interaction
from townsquare.connectors.models import ImportRun
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.lib.testing import import_export, make_staff
from townsquare.listening.pipeline import enrich_pending
from townsquare.moderation.models import ModerationItem

CaptureOnCommit = Callable[..., AbstractContextManager[Any]]
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

USERS = [
    {"id": "U1", "name": "ada", "profile": {"real_name": "Ada Lovelace"}},
    {"id": "U2", "name": "ronnie", "profile": {"real_name": "Rude Ronnie"}},
    {"id": "U3", "name": "promo", "profile": {"real_name": "Prize Desk"}},
    {"id": "U4", "name": "chloe", "profile": {"real_name": "Chloé Martin"}},
]
ROOT = "1700000000.000100"
QUESTION = "Where can I find the slides from the last meetup?"
TOXIC = "You are an idiot and a moron, shut up you stupid loser"
SPAM = "WIN A FREE IPHONE!!! Click here now http://prize.example to claim your prize $$$"
CALM = "The release notes for the dashboard are on the wiki now"
GIVEAWAY = "Has anyone else joined the Crypto Giveaway in the other server?"


def messages(**texts: str) -> dict[str, list[dict[str, Any]]]:
    """The community's channels; `texts` replaces a message's text by its name (an edit)."""
    text = {"question": QUESTION, "toxic": TOXIC, "spam": SPAM, "calm": CALM, **texts}
    general = [
        {"type": "message", "user": "U1", "text": text["question"], "ts": ROOT},
        {"type": "message", "user": "U2", "text": text["toxic"], "ts": "1700000060.000100",
         "thread_ts": ROOT},
    ]  # fmt: skip
    random = [
        {"type": "message", "user": "U4", "text": text["calm"], "ts": "1700001000.000100"},
        {"type": "message", "user": "U4", "text": GIVEAWAY, "ts": "1700001500.000100"},
        {"type": "message", "user": "U3", "text": text["spam"], "ts": "1700002000.000100"},
    ]
    return {"general": general, "random": random}


def import_community(root: Path, **texts: str) -> ImportRun:
    """Import (or import again, with edits) and enrich in this process."""
    export = write_slack_export(root, messages(**texts), USERS)
    with override_settings(TASKS=DUMMY_TASKS):
        run = import_export("slack", export, source="community")
    enrich_pending()
    return run


@pytest.fixture
def community(db: None, tmp_path: Path) -> ImportRun:
    return import_community(tmp_path / "community")


@pytest.fixture
def moderator(db: None) -> User:
    return make_staff("mo", role="moderator")


@pytest.fixture
def viewer(db: None) -> User:
    return make_staff("vera", role="viewer")


@pytest.fixture
def mo_client(client: Client, moderator: User) -> Client:
    client.force_login(moderator)
    return client


def message(text: str) -> Interaction:
    return Interaction.objects.get(text=text)


def item_of(text: str) -> ModerationItem:
    return ModerationItem.objects.get(interaction__text=text)
