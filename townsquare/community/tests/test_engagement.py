"""Engagement levels (community/engagement.py) on a crafted community, against a fixed now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from townsquare.community.engagement import (
    HALF_LIFE_DAYS,
    WEIGHTS,
    decay,
    describe,
    refresh_engagement,
)
from townsquare.community.models import InteractionKind, Member
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.lib.testing import import_export
from townsquare.people.models import EngagementLevel, EngagementScore

pytestmark = pytest.mark.django_db

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
REGULARS = 20


_SEQUENCE = iter(range(1_000_000))


def _message(user: str, days_ago: float, n: int, **extra: Any) -> dict[str, Any]:
    # Slack keys a message by channel and ts: every message gets its own second.
    ts = (NOW - timedelta(days=days_ago)).timestamp() + next(_SEQUENCE)
    return {"type": "message", "user": user, "text": f"Note {n} from {user}", "ts": f"{ts:.6f}",
            **extra}  # fmt: skip


@pytest.fixture
def levels(tmp_path: Path) -> dict[str, EngagementScore]:
    """Regular members R00..R19 with 1..20 messages yesterday; staff and a bot busier than
    all of them; a newcomer, a member gone quiet, and one whose only message is one half-life
    old."""
    users: list[dict[str, Any]] = [
        {"id": f"R{n:02d}", "name": f"r{n:02d}"} for n in range(REGULARS)
    ]
    users += [{"id": x, "name": x.lower()} for x in ("STAFF", "NEWBIE", "QUIET", "HALF")]
    users.append({"id": "BOT", "name": "bot", "is_bot": True})
    messages = []
    for n in range(REGULARS):
        # They joined long ago (a join weighs nothing), and wrote n + 1 messages yesterday.
        messages.append(_message(f"R{n:02d}", 95, 0, subtype="channel_join"))
        messages += [_message(f"R{n:02d}", 1, k) for k in range(n + 1)]
    messages += [_message("STAFF", 1, k) for k in range(100)]
    messages += [_message("BOT", 1, k) for k in range(50)]
    messages.append(_message("NEWBIE", 10, 0))
    messages += [_message("QUIET", 200, 0), _message("QUIET", 100, 1)]
    messages.append(_message("HALF", HALF_LIFE_DAYS, 0))
    export = write_slack_export(tmp_path / "levels", {"general": messages}, users)
    with override_settings(TASKS=DUMMY_TASKS):
        import_export("slack", export, source="levels")
    Member.objects.filter(identities__handle="staff").update(is_team=True)
    refresh_engagement(now=NOW)
    return {
        s.member.identities.get().handle: s
        for s in EngagementScore.objects.select_related("member")
    }


def test_it_halves_the_weight_after_one_half_life(levels: dict[str, EngagementScore]) -> None:
    assert decay(0) == 1.0
    assert decay(HALF_LIFE_DAYS) == pytest.approx(0.5)
    assert decay(2 * HALF_LIFE_DAYS) == pytest.approx(0.25)
    assert levels["half"].score == pytest.approx(WEIGHTS[InteractionKind.MESSAGE] * 0.5)
    assert levels["r00"].score == pytest.approx(WEIGHTS[InteractionKind.MESSAGE] * 0.5 ** (1 / 60))


def test_it_leaves_staff_and_bots_out_of_the_percentiles(
    levels: dict[str, EngagementScore],
) -> None:
    assert levels["staff"].level == EngagementLevel.UNRANKED
    assert levels["bot"].level == EngagementLevel.UNRANKED
    # Ranked: the regulars, the newcomer, the quiet one and the half-life one.
    ranked = REGULARS + 3
    assert levels["r19"].explanation["ranked"] == ranked
    # The busiest regular is first although staff and the bot did more.
    assert levels["r19"].explanation["position"] == 1
    assert levels["r19"].level == EngagementLevel.CORE
    # Active: the next positions up to 25 % of the ranked members.
    active = [f"r{n:02d}" for n in range(REGULARS) if 1 < REGULARS - n <= 0.25 * ranked]
    assert active == ["r15", "r16", "r17", "r18"]
    for handle in active:
        assert levels[handle].level == EngagementLevel.ACTIVE
    assert levels["r14"].level == EngagementLevel.CASUAL
    assert levels["r00"].level == EngagementLevel.CASUAL
    assert "staff and bots" in describe(levels["staff"].explanation)


def test_it_calls_a_newcomer_new_not_silent(levels: dict[str, EngagementScore]) -> None:
    assert levels["newbie"].level == EngagementLevel.NEW
    assert levels["quiet"].level == EngagementLevel.SILENT
    # Without a single interaction in the last 90 days, a month-old member is silent too...
    Member.objects.create(display_name="Lurker", first_seen_at=NOW - timedelta(days=40))
    # ...but one who joined last week is new.
    Member.objects.create(display_name="Fresh", first_seen_at=NOW - timedelta(days=7))
    refresh_engagement(now=NOW)
    by_name = {s.member.display_name: s.level for s in EngagementScore.objects.all()}
    assert by_name["Lurker"] == EngagementLevel.SILENT
    assert by_name["Fresh"] == EngagementLevel.NEW


def test_it_explains_a_level_in_words(levels: dict[str, EngagementScore]) -> None:
    text = describe(levels["r18"].explanation)
    assert text.startswith("Active: 19 messages in the last 90 days, top ")
    assert f"halved every {HALF_LIFE_DAYS} days" in text
    quiet = describe(levels["quiet"].explanation)
    assert quiet.startswith("Silent: no interaction in the last 90 days")
    assert describe(levels["newbie"].explanation).startswith("New: first seen")
    # Beside a badge that names the level, the reasons alone.
    assert describe(levels["newbie"].explanation, with_level=False).startswith("First seen")
    assert describe(levels["staff"].explanation).startswith("Not ranked: part of the team")
    assert describe(levels["r18"].explanation, with_level=False).startswith("19 messages in")


def test_it_refreshes_from_the_command(levels: dict[str, EngagementScore]) -> None:
    EngagementScore.objects.all().delete()
    call_command("engagement")
    # Now is long after NOW: nobody has been active in 90 days.
    assert EngagementScore.objects.count() == Member.objects.count()
    assert not EngagementScore.objects.filter(
        level__in=[EngagementLevel.CORE, EngagementLevel.ACTIVE]
    ).exists()
