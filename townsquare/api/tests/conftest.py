"""Fixtures for the API tests: staff personas with their tokens, and a small community."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from townsquare.api.services import do_create_token
from townsquare.care.models import CareItem, CareReason, Rule, Status
from townsquare.care.queue import rerank
from townsquare.community.models import (
    Channel,
    Conversation,
    Identity,
    Interaction,
    InteractionKind,
    Member,
    MemberTag,
    Source,
    Tag,
)
from townsquare.inbox.rollup import refresh_states
from townsquare.inbox.services import do_claim
from townsquare.lib.testing import make_staff
from townsquare.listening.models import Alert, AlertMetric, Enrichment
from townsquare.listening.services import do_correct_label
from townsquare.metrics.rollups import rebuild as rebuild_rollups
from townsquare.moderation.models import ModerationItem
from townsquare.moderation.services import do_moderate

AssertNumQueries = Callable[[int], AbstractContextManager[Any]]
BASE = "/api/v1"


class Api:
    """A test client that sends a bearer token and JSON bodies."""

    def __init__(self, client: Client, key: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(BASE + path, params, headers=self.headers)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(
            BASE + path, body, content_type="application/json", headers=self.headers
        )

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(
            BASE + path, body, content_type="application/json", headers=self.headers
        )

    def delete(self, path: str) -> Any:
        return self.client.delete(BASE + path, headers=self.headers)


@pytest.fixture
def alice(db: None) -> User:
    return make_staff("alice", superuser=True)


@pytest.fixture
def bob(db: None) -> User:
    return make_staff("bob")


@pytest.fixture
def charlie(db: None) -> User:
    """A user without a staff role: the API refuses him."""
    return make_staff("charlie", staff=False)


@pytest.fixture
def alice_key(alice: User) -> str:
    return do_create_token(user=alice, name="alice's script")[1]


@pytest.fixture
def alice_api(alice_key: str) -> Api:
    return Api(Client(), alice_key)


@pytest.fixture
def bob_api(bob: User) -> Api:
    return Api(Client(), do_create_token(user=bob, name="bob's script")[1])


def at(day: int, month: int = 3) -> datetime:
    return datetime(2024, month, day, 12, tzinfo=UTC)


@dataclass
class Community:
    slack: Source
    github: Source
    ada: Member
    bob: Member
    chloe: Member
    merged: Member
    erased: Member
    speaker: Tag


@pytest.fixture
def community(db: None) -> Community:
    """Ada on Slack and GitHub, tagged speaker; Bob on Slack; Chloé on GitHub; one member merged
    into Ada and one erased."""
    slack = Source.objects.create(name="Data Vis Slack", platform="slack")
    github = Source.objects.create(name="townsquare repo", platform="github")
    ada = Member.objects.create(
        display_name="Ada Lovelace",
        first_seen_at=at(1),
        last_seen_at=at(20),
        interaction_count=12,
        custom_fields={"company": "Analytical Engines"},
    )
    bob = Member.objects.create(
        display_name="Bob Builder", first_seen_at=at(5), last_seen_at=at(6), interaction_count=2
    )
    chloe = Member.objects.create(
        display_name="Chloé Martin", first_seen_at=at(10), last_seen_at=at(25), is_bot=False
    )
    merged = Member.objects.create(
        display_name="Ada Old", merged_into=ada, merged_at=at(21), first_seen_at=at(2)
    )
    erased = Member.objects.create(display_name="Erased member", erased_at=at(22))
    Identity.objects.create(
        source=slack, member=ada, external_id="U1", handle="ada", email="ada@example.org"
    )
    Identity.objects.create(
        source=github, member=ada, external_id="1", handle="countess", display_name="Ada L."
    )
    Identity.objects.create(source=slack, member=bob, external_id="U2", handle="bobb")
    Identity.objects.create(
        source=github, member=chloe, external_id="2", handle="chloem", email="chloe@example.net"
    )
    Identity.objects.create(source=slack, member=merged, external_id="U9", handle="ada_old")
    speaker = Tag.objects.create(name="Speaker")
    MemberTag.objects.create(member=ada, tag=speaker)
    return Community(slack, github, ada, bob, chloe, merged, erased, speaker)


@dataclass
class Talk:
    help: Channel
    question: Conversation
    bonjour: Conversation
    asked: Interaction
    answered: Interaction
    reacted: Interaction
    spam: Interaction
    french: Interaction
    item: CareItem
    quiet_item: CareItem
    alert: Alert


def _message(
    source: Source,
    member: Member,
    at_: datetime,
    text: str,
    *,
    conversation: Conversation,
    kind: str = InteractionKind.MESSAGE,
    parent: Interaction | None = None,
    **labels: Any,
) -> Interaction:
    """A message by the member's identity on the source, with its labels when given."""
    interaction = Interaction.objects.create(
        source=source,
        external_id=f"m{Interaction.objects.count() + 1}",
        kind=kind,
        identity=member.identities.get(source=source),
        member=member,
        channel=conversation.channel,
        conversation=conversation,
        parent=parent,
        text=text,
        created_at=at_,
        content_hash="x",
        imported_at=at_,
    )
    if labels:
        Enrichment.objects.create(
            interaction=interaction,
            member=member,
            version_key="test",
            enriched_at=at_,
            **{"analyzed": True, **labels},
        )
    return interaction


@pytest.fixture
def talk(alice: User, community: Community) -> Talk:
    """On Slack's #help, Ada asks a question (3 March), Bob answers it with thanks, Chloé's
    reaction, and Bob's spam, which a moderator hid; on GitHub, Chloé writes in French,
    labelled negative by a person. The inbox is refreshed: Bob's answer was the first response;
    alice claimed the French one. Ada has an open care item, Bob a snoozed one; one alert."""
    slack, github = community.slack, community.github
    Identity.objects.create(source=slack, member=community.chloe, external_id="U3", handle="chl")
    help_ = Channel.objects.create(source=slack, external_id="C1", name="help")
    question = Conversation.objects.create(
        source=slack, channel=help_, external_id="t1", title="Heatmaps", started_at=at(3)
    )
    bonjour = Conversation.objects.create(
        source=github, external_id="issue-7", title="Le build échoue", started_at=at(10)
    )
    asked = _message(
        slack,
        community.ada,
        at(3),
        "How do I plot a HEATMAP by weekday?",
        conversation=question,
        kind=InteractionKind.POST,
        language="en",
        language_confidence=0.98,
        sentiment=0.0,
        sentiment_label="neutral",
        is_question=True,
        question_score=0.93,
        keywords=["heatmap", "weekday"],
    )
    answered = _message(
        slack,
        community.bob,
        at(4),
        "Use a pivot table, and thanks for asking!",
        conversation=question,
        kind=InteractionKind.REPLY,
        parent=asked,
        language="en",
        language_confidence=0.95,
        sentiment=0.6,
        sentiment_label="positive",
        is_gratitude=True,
    )
    reacted = _message(
        slack, community.chloe, at(4), "+1", conversation=question, kind=InteractionKind.REACTION
    )
    reacted.parent = asked
    reacted.save()
    spam = _message(
        slack,
        community.bob,
        at(5),
        "Cheap heatmap pills at example.com",
        conversation=question,
        language="en",
        sentiment_label="neutral",
        is_spam=True,
        spam=0.97,
    )
    flagged = ModerationItem.objects.create(interaction=spam, text_hash="x")
    do_moderate(item=flagged, actor=alice, action="hide", reason="Spam")
    french = _message(
        github,
        community.chloe,
        at(10),
        "Bonjour, le build échoue depuis hier.",
        conversation=bonjour,
        kind=InteractionKind.POST,
        language="fr",
        language_confidence=0.9,
        sentiment_label="unsupported",
    )
    do_correct_label(
        interaction=french, field="sentiment_label", value="negative", user=alice, note="Angry"
    )
    refresh_states()
    rebuild_rollups()  # the metrics' rollups, as the importer and enrichment keep them
    do_claim(conversation=bonjour, user=alice)
    now = timezone.now()
    item = CareItem.objects.create(member=community.ada, created_at=now, updated_at=now)
    CareReason.objects.create(
        item=item,
        member=community.ada,
        rule=Rule.UNANSWERED,
        key=f"unanswered:{question.pk}",
        detail="Asked a question in #help and nobody has answered yet.",
        strength=0.8,
        interaction=asked,
        conversation=question,
        channel=help_,
        occurred_at=at(3),
        created_at=now,
    )
    CareReason.objects.create(
        item=item,
        member=community.ada,
        rule=Rule.NEWCOMER,
        key=f"newcomer:{community.ada.pk}",
        detail="New here: wrote their first message in #help.",
        strength=0.7,
        occurred_at=at(3),
        created_at=now,
        cleared_at=now,
    )
    quiet_item = CareItem.objects.create(
        member=community.bob,
        status=Status.SNOOZED,
        snoozed_until=now + timedelta(days=2),
        created_at=now,
        updated_at=now,
    )
    CareReason.objects.create(
        item=quiet_item,
        member=community.bob,
        rule=Rule.HELPER,
        key=f"helper:{community.bob.pk}:2024-W10",
        detail="This week they answered 3 questions. Thank them.",
        strength=0.5,
        occurred_at=at(4),
        created_at=now,
    )
    rerank(now)
    alert = Alert.objects.create(
        channel=help_,
        metric=AlertMetric.VOLUME,
        window_start=at(5),
        window_end=at(6),
        value=40,
        mean=10,
        std=3,
        k=2,
        message="Volume in #help on 5 Mar 2024 is 10σ above its 7-day norm.",
    )
    item.refresh_from_db()
    quiet_item.refresh_from_db()
    return Talk(
        help_, question, bonjour, asked, answered, reacted, spam, french, item, quiet_item, alert
    )
