"""What a digest says, checked against figures counted by hand (conftest.py), and its weeks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.test import override_settings

from townsquare.care.models import CareItem
from townsquare.community.models import Member
from townsquare.digest.content import (
    build_digest,
    change,
    last_full_week,
    week_bounds,
    week_of,
)
from townsquare.digest.tests.conftest import NOW, WEEK, Community

pytestmark = pytest.mark.django_db


def _figures(content: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for f in content["figures"]}


def test_it_counts_the_week_against_the_week_before(two_weeks: Community) -> None:
    figures = _figures(build_digest(WEEK, now=NOW))
    counted = {key: (f["value"], f["previous"], f["change"]) for key, f in figures.items()}
    assert counted["messages"] == (7, 4, "+75 %")
    # Dan's reaction made him active the week before; the staff member never counts.
    assert counted["active_members"] == (4, 3, "+33 %")
    assert counted["new_members"] == (1, 2, "-50 %")
    # Answers after 60 and 120 minutes, against 30 and 90.
    assert counted["median_ttfr"] == (5400, 3600, "+50 %")
    assert figures["median_ttfr"]["text"] == "1 h 30 min"
    assert figures["median_ttfr"]["note"] == "2 of 3 conversations answered"
    # Bob's question of Wednesday is still waiting; nothing was the week before.
    assert counted["unanswered"] == (1, 0, "new")
    # (0.6 + 0 − 0.5 + 0.4 − 0.3) ÷ 5 against (0.5 + 0.3 − 0.2) ÷ 3.
    assert figures["mean_sentiment"]["value"] == pytest.approx(0.04)
    assert figures["mean_sentiment"]["previous"] == pytest.approx(0.2)
    assert figures["mean_sentiment"]["change"] == "-0.16"
    # 2 negative of 5 supported messages, against 1 of 3: 40 % − 33.3 % ≈ 7 points.
    assert figures["negative_share"]["value"] == pytest.approx(0.4)
    assert figures["negative_share"]["change"] == "+7 pts"


def test_it_says_whether_a_change_is_for_the_better(two_weeks: Community) -> None:
    figures = _figures(build_digest(WEEK, now=NOW))
    assert (figures["messages"]["direction"], figures["messages"]["good"]) == ("up", True)
    assert (figures["median_ttfr"]["direction"], figures["median_ttfr"]["good"]) == ("up", False)
    assert (figures["new_members"]["direction"], figures["new_members"]["good"]) == (
        "down",
        False,
    )
    assert figures["negative_share"]["good"] is False


def test_it_lists_who_needs_care_with_their_reasons(two_weeks: Community) -> None:
    content = build_digest(WEEK, now=NOW)
    names = dict(Member.objects.values_list("pk", "display_name"))
    listed = [
        (names[i["member_id"]], [r["rule"] for r in i["reasons"]]) for i in content["care"]["items"]
    ]
    # Ranked as the queue ranks them: an unanswered question, a newcomer, a milestone.
    assert listed == [("bob", ["unanswered"]), ("cleo", ["newcomer"]), ("dan", ["milestone"])]
    assert content["care"]["open"] == 3
    first = content["care"]["items"][0]
    assert first["item_id"] == CareItem.objects.get(member__display_name="bob").pk
    assert first["reasons"][0]["label"] == "Unanswered question"
    assert first["reasons"][0]["detail"].startswith("Asked a question in help 5 days ago")


def test_it_lists_the_milestones_spikes_and_newcomers_of_the_week(two_weeks: Community) -> None:
    content = build_digest(WEEK, now=NOW)
    dan = Member.objects.get(display_name="dan")
    assert [(m["member_id"], m["detail"], m["day"]) for m in content["milestones"]] == [
        (dan.pk, "1 year in the community this week.", "Thu 12 Mar")
    ]
    # The alert of Sunday 8 March belongs to the week before.
    assert [s["message"] for s in content["spikes"]] == [
        "Volume in #help on 12 Mar 2026 is 26.0σ above its 7-day norm."
    ]
    cleo = Member.objects.get(display_name="cleo")
    assert content["welcome"] == {
        "count": 1,
        "members": [{"member_id": cleo.pk, "first_seen": "Tue 10 Mar", "interactions": 1}],
    }
    assert content["week"]["label"] == "9–15 March 2026"
    assert "ada" not in str(content)  # names are read when shown, never stored


def test_it_leaves_out_newcomers_who_must_not_be_contacted(two_weeks: Community) -> None:
    Member.objects.filter(display_name="cleo").update(do_not_contact=True)
    content = build_digest(WEEK, now=NOW)
    assert content["welcome"] == {"count": 0, "members": []}
    # The metric still counts her: she is new, whoever may write to her.
    assert _figures(content)["new_members"]["value"] == 1


def test_it_refuses_a_week_that_does_not_start_on_a_monday(db: None) -> None:
    with pytest.raises(ValueError, match="starts on a Monday"):
        build_digest(date(2026, 3, 10), now=NOW)


@pytest.mark.parametrize(
    ("value", "previous", "unit", "expected"),
    [
        (112, 100, "count", ("+12 %", "up")),
        (88, 100, "count", ("-12 %", "down")),
        (5, 0, "count", ("new", "up")),
        (0, 0, "count", ("same", "same")),
        (100, 100, "count", ("same", "same")),
        (0, 4, "count", ("-100 %", "down")),
        (None, 3600, "duration", (None, None)),
        (0.5, 0.25, "share", ("+25 pts", "up")),
        (-0.1, 0.05, "score", ("-0.15", "down")),
    ],
)
def test_it_words_a_change_without_dividing_by_zero(
    value: float | None, previous: float | None, unit: Any, expected: tuple[Any, Any]
) -> None:
    moved = change(value, previous, unit)
    assert (moved.text, moved.direction) == expected


# Weeks in the community's time zone ----------------------------------------------------------


@override_settings(COMMUNITY_TIME_ZONE="Europe/Paris")
def test_it_starts_weeks_at_local_midnight_across_daylight_saving_time() -> None:
    utc = UTC
    # Summer time starts on Sunday 29 March 2026 at 02:00: that week lasts 167 hours.
    since, until = week_bounds(date(2026, 3, 23))
    assert since == datetime(2026, 3, 22, 23, 0, tzinfo=utc)
    assert until == datetime(2026, 3, 29, 22, 0, tzinfo=utc)
    assert until - since == timedelta(hours=167)
    # It ends on Sunday 25 October: 169 hours.
    since, until = week_bounds(date(2026, 10, 19))
    assert (since, until - since) == (
        datetime(2026, 10, 18, 22, 0, tzinfo=utc),
        timedelta(hours=169),
    )
    # Sunday 23:30 in Paris is still that week; Monday 00:30 is the next.
    assert week_of(datetime(2026, 3, 29, 21, 30, tzinfo=utc)) == date(2026, 3, 23)
    assert week_of(datetime(2026, 3, 29, 22, 30, tzinfo=utc)) == date(2026, 3, 30)
    assert last_full_week(datetime(2026, 3, 29, 22, 30, tzinfo=utc)) == date(2026, 3, 23)


@override_settings(COMMUNITY_TIME_ZONE="America/New_York")
def test_it_takes_a_western_week_from_its_own_midnights() -> None:
    # Summer time starts there on 8 March 2026: Monday 9 March 00:00 is 04:00 UTC.
    since, until = week_bounds(date(2026, 3, 2))
    assert (since, until) == (
        datetime(2026, 3, 2, 5, 0, tzinfo=UTC),
        datetime(2026, 3, 9, 4, 0, tzinfo=UTC),
    )


@override_settings(COMMUNITY_TIME_ZONE="Europe/Paris")
def test_it_counts_figures_within_the_local_week(community: Community) -> None:
    c = community
    ada, bob = c.member("ada"), c.member("bob")
    moments = {
        "Sunday 22 March 23:30 in Paris (the week before)": datetime(
            2026, 3, 22, 22, 30, tzinfo=UTC
        ),
        "Monday 23 March 00:30": datetime(2026, 3, 22, 23, 30, tzinfo=UTC),
        "Sunday 29 March 23:30, summer time": datetime(2026, 3, 29, 21, 30, tzinfo=UTC),
        "Monday 30 March 00:30 (the week after)": datetime(2026, 3, 29, 22, 30, tzinfo=UTC),
    }
    before, first, last, after = moments.values()
    c.say(ada, before)
    c.say(bob, first)
    c.say(bob, last)
    c.say(ada, after)
    c.settle(now=after + timedelta(hours=1))
    figures = _figures(build_digest(date(2026, 3, 23), now=after + timedelta(hours=1)))
    assert (figures["messages"]["value"], figures["messages"]["previous"]) == (2, 1)
    assert (figures["active_members"]["value"], figures["active_members"]["previous"]) == (1, 1)
    # Ada was first seen on the Sunday before, Bob on the week's first minutes.
    assert (figures["new_members"]["value"], figures["new_members"]["previous"]) == (1, 1)
    digest = build_digest(date(2026, 3, 23), now=after)
    assert digest["week"]["since"] == "2026-03-22T23:00:00+00:00"
    assert digest["week"]["until"] == "2026-03-29T22:00:00+00:00"
    assert [m["member_id"] for m in digest["welcome"]["members"]] == [bob.pk]
