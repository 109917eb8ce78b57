"""A small community written as a real Slack export, imported and enriched through the real
path, with messages placed relative to a fixed NOW so every care rule has a case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from townsquare.community.models import Member
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.inbox.rollup import refresh_states
from townsquare.lib.testing import import_export
from townsquare.listening.pipeline import enrich_pending

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)

USERS: list[dict[str, Any]] = [
    {"id": f"U{i}", "name": name, "profile": {"real_name": name.title()}}
    for i, name in enumerate(["ada", "bob", "cleo", "dan", "eve", "gus", "hana", "ivy"], 1)
] + [{"id": "UB", "name": "deploybot", "is_bot": True, "profile": {"real_name": "Deploy Bot"}}]

HAPPY = [
    "I love this project, great work everyone, it is wonderful",
    "Thanks for the lovely release, the new charts look great",
    "Really enjoyed the meetup yesterday, such nice people",
    "This plugin is awesome, it made my week so much better",
    "Great docs, I found what I needed right away, thank you",
    "Happy to help anyone with the config, it is fun",
]
ANGRY = "The build is broken again, what a horrible mess, I am so fed up with this"
QUESTION_BOB = "How do I configure the legend position on a faceted chart?"
QUESTION_CLEO = "Hi all, how do I install the plugin on Windows?"
FRENCH = "Bonjour, je n'arrive pas à installer le paquet sur mon ordinateur, pouvez-vous m'aider ?"


def ts(moment: datetime) -> str:
    return f"{moment.timestamp():.6f}"


def say(moment: datetime, user: str, text: str, thread: datetime | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": ts(moment)}
    if thread is not None:
        m["thread_ts"] = ts(thread)
    return m


@dataclass
class Town:
    root: Path
    channels: dict[str, list[dict[str, Any]]]

    def member(self, handle: str) -> Member:
        return Member.objects.get(identities__handle=handle)

    def add(self, channel: str, *messages: dict[str, Any]) -> None:
        """Import more messages, as a later export would bring them."""
        self.channels[channel].extend(messages)
        load(self.root, self.channels)


def load(root: Path, channels: dict[str, list[dict[str, Any]]]) -> None:
    import_export("slack", write_slack_export(root, channels, USERS), source="town")
    enrich_pending()
    refresh_states()


def community_messages() -> dict[str, list[dict[str, Any]]]:
    general: list[dict[str, Any]] = []
    # Ada: a happy regular for months...
    for i in range(30):
        general.append(say(NOW - timedelta(days=80 - 2 * i, hours=3), "U1", HAPPY[i % 6]))
    # ...who has a bad day today.
    general.append(say(NOW - timedelta(hours=2), "U1", ANGRY))
    # Bob, here for two months, asked 30 hours ago; nobody answered but himself.
    general.append(say(NOW - timedelta(days=60), "U2", "Hello, glad to be here"))
    asked = NOW - timedelta(hours=30)
    general.append(say(asked, "U2", QUESTION_BOB))
    general.append(say(asked + timedelta(hours=1), "U2", "Anyone? I tried facet_wrap", asked))
    # Cleo is new: her first message, two days ago, is a question Ada answered.
    cleo_asked = NOW - timedelta(days=2)
    general.append(say(cleo_asked, "U3", QUESTION_CLEO))
    general.append(
        say(cleo_asked + timedelta(hours=1), "U1", "Use the installer from the site", cleo_asked)
    )
    # Dan was a regular until four months ago.
    for i in range(6):
        general.append(say(NOW - timedelta(days=130 - i), "U4", HAPPY[i]))
    # Eve writes in French in an English channel; nobody replies.
    general.append(say(NOW - timedelta(hours=5), "U5", FRENCH))
    # Ada answers Gus's and Hana's questions first too, and both thank her.
    for user, hours in (("U6", 40), ("U7", 50)):
        q = NOW - timedelta(hours=hours)
        general.append(say(q, user, "How do I export a chart as SVG from the editor?"))
        general.append(say(q + timedelta(minutes=20), "U1", "Use the export menu, top right", q))
        general.append(say(q + timedelta(minutes=40), user, "Thank you so much, that worked!", q))
    # The bot complains every day: never a care item.
    general.append(say(NOW - timedelta(hours=1), "UB", ANGRY))
    return {"general": general}


@pytest.fixture
def town(db: None, tmp_path: Path) -> Town:
    channels = community_messages()
    load(tmp_path / "export", channels)
    return Town(tmp_path / "export", channels)
