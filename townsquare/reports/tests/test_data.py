"""Each chart's table on the small community of town.py, against figures worked out by hand
from its story (the docstring there), not by running the metric code again."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from townsquare.reports import data
from townsquare.reports.forms import Picks, ReportForm
from townsquare.reports.tests.town import TWO_WEEKS, Town

W1, W2 = date(2024, 3, 4), date(2024, 3, 11)


def picks(town: Town, **changes: Any) -> Picks:
    params = {**TWO_WEEKS, **changes}
    if params.get("segment") is True:
        assert town.segment is not None
        params["segment"] = str(town.segment.pk)
    form = ReportForm(params)
    assert form.is_valid(), form.errors
    return form.picks()


def column(table: data.Table, key: str) -> list[Any]:
    n = [c.key for c in table.columns].index(key)
    return [row[n] for row in table.rows]


def test_it_counts_messages_per_week(town: Town) -> None:
    # Week 1: c1 3 messages, c2 2, c3 1 (Ben's reaction is no message). Week 2: c4 3 (the
    # bot's included), c5 4, c6 the post and the answer (the accepted mark is no message), c7 3.
    assert data.activity(picks(town)).rows == [[W1, 6], [W2, 12]]


def test_it_narrows_activity_to_a_channel_a_source_and_a_segment(town: Town) -> None:
    assert data.activity(picks(town, channel=str(town.help.pk))).rows == [[W1, 5], [W2, 7]]
    assert data.activity(picks(town, source=str(town.forum.pk))).rows == [[W1, 0], [W2, 2]]
    # Ann and Ben: week 1 Ann's question and thanks and Ben's reply; week 2 Ann's question and
    # thanks, Ben's two replies, his answer and his three messages in c7.
    assert data.activity(picks(town, segment=True)).rows == [[W1, 3], [W2, 8]]


def test_it_gives_dau_wau_and_mau_of_each_day(town: Town) -> None:
    table = data.active_members(picks(town, since="2024-03-12", until="2024-03-15", period="day"))
    assert table.rows == [
        # Ann and Ben; the week since the 6th adds Dan; the month adds Cat. The bot not.
        [date(2024, 3, 12), 2, 3, 4, 50.0],
        [date(2024, 3, 13), 4, 4, 4, 100.0],  # Dan, Cat, Ann and Ben in c5
        [date(2024, 3, 14), 2, 5, 5, 40.0],  # Eve and Ben in the forum; Eve is new
        [date(2024, 3, 15), 1, 5, 5, 20.0],  # Ben alone
    ]


def test_it_samples_active_members_on_the_last_day_of_each_week(town: Town) -> None:
    # Sunday the 10th: nobody that day; Ann, Ben, Cat and Dan that week. Sunday the 17th:
    # nobody; the week since the 11th has all five members.
    assert data.active_members(picks(town)).rows == [
        [date(2024, 3, 10), 0, 4, 4, 0.0],
        [date(2024, 3, 17), 0, 5, 5, 0.0],
    ]


def test_it_counts_new_members_per_week_and_per_month(town: Town) -> None:
    assert data.new_members(picks(town)).rows == [[W1, 4], [W2, 1]]  # Eve in week 2
    spring = picks(town, since="2024-03-01", until="2024-04-30", period="month")
    assert data.new_members(spring).rows == [[date(2024, 3, 1), 5], [date(2024, 4, 1), 1]]
    assert data.new_members(picks(town, segment=True)).rows == [[W1, 2], [W2, 0]]


def test_it_gives_monthly_retention_cohorts(town: Town) -> None:
    table = data.retention(picks(town, since="2024-03-01", until="2024-04-30", period="month"))
    assert [c.label for c in table.columns] == ["First seen in", "Members", "M+0 (%)", "M+1 (%)"]
    # March: five members, Ann alone back in April. April: Fay, and no month after it yet.
    assert table.rows == [[date(2024, 3, 1), 5, 100.0, 20.0], [date(2024, 4, 1), 1, 100.0, None]]


def test_it_gives_the_median_and_p90_of_the_first_response_in_hours(town: Town) -> None:
    table = data.response_time(picks(town))
    # Week 1: c1 answered in 0.5 h, c2 in 2 h (staff count), c3 never: median 1.25, p90
    # 0.5 + 0.9 × 1.5 = 1.85. Week 2: c4 1 h (the bot does not count), c5 2 h, c6 1 h, c7
    # never: median 1, p90 1 + 0.8 × 1 = 1.8.
    assert table.rows == [[W1, 3, 2, 1.25, 1.85], [W2, 4, 3, 1.0, 1.8]]
    # Conversations the segment's members opened: c1; c4 and c7.
    assert data.response_time(picks(town, segment=True)).rows == [
        [W1, 1, 1, 0.5, 0.5],
        [W2, 2, 1, 1.0, 1.0],
    ]


def test_it_gives_the_unanswered_share(town: Town) -> None:
    # Week 1: c3 of three; week 2: c7 of four.
    assert data.unanswered(picks(town)).rows == [[W1, 3, 1, 33.3], [W2, 4, 1, 25.0]]


def test_it_gives_the_sentiment_trend_for_the_whole_community(town: Town) -> None:
    table = data.sentiment(picks(town))
    # Week 1: four supported messages, (0.5 + 0 + 0.8 − 0.6) / 4 = 0.175, one negative; the
    # staff reply's language is unsupported. Week 2: nothing analyzed.
    assert table.rows == [[W1, 6, 0.175, 25.0, 1], [W2, 12, None, None, 0]]
    assert data.sentiment(picks(town, segment=True)).rows == table.rows


def test_it_lists_topics_with_their_lift(town: Town) -> None:
    # "slides" in 3 of the 5 analyzed messages, absent before: lift (4/7) / (1/2) = 8/7.
    # "deploy" has 2 messages only, "thanks" 1: not topics.
    assert data.topics(picks(town)).rows == [["slides", 3, 60.0, 0, 1.14]]


def test_it_counts_messages_per_hour_and_weekday(town: Town, settings: Any) -> None:
    settings.COMMUNITY_TIME_ZONE = "UTC"
    table = data.hours(picks(town))
    cells = {row[0]: row[1:] for row in table.rows}
    assert list(cells) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert cells["Mon"][9] == 2 and cells["Mon"][10] == 1
    assert cells["Tue"][12] == 2  # Cat on the 5th, the bot on the 12th
    assert cells["Fri"][9] == 3
    assert cells["Thu"][12] == 0  # the accepted mark is no message
    assert sum(sum(r) for r in cells.values()) == 18


def test_it_follows_the_community_time_zone_in_the_heatmap(town: Town, settings: Any) -> None:
    # Chicago is UTC−6 until daylight saving time starts on Sunday 10 March 2024, then UTC−5.
    settings.COMMUNITY_TIME_ZONE = "America/Chicago"
    cells = {row[0]: row[1:] for row in data.hours(picks(town)).rows}
    assert cells["Mon"][3] == 2 and cells["Fri"][4] == 3


def test_it_sorts_members_into_onion_layers(town: Town) -> None:
    # Ben 8 interactions, Ann 4, Cat, Dan and Eve 2 each, of 18: 44 %, 67 %, 78 % are core,
    # 89 % regular, the last casual.
    assert data.onion(picks(town)).rows == [
        ["Core", 3, 14, 77.8],
        ["Regular", 1, 2, 11.1],
        ["Casual", 1, 2, 11.1],
    ]
    # Ben 8 of 12 (67 %) is core, Ann's 4 take the total past 95 %.
    assert data.onion(picks(town, segment=True)).rows == [
        ["Core", 1, 8, 66.7],
        ["Regular", 0, 0, 0.0],
        ["Casual", 1, 4, 33.3],
    ]


def test_it_gives_the_absence_factor_per_week_and_for_the_period(town: Town) -> None:
    table = data.absence_factor(picks(town))
    # Week 1: Ann 2, Ben 2, Cat 1, Dan 1: two reach half of 6. Week 2: Ben's 6 of 12 are
    # exactly half, which counts.
    assert table.rows == [[W1, 2, 4, 6], [W2, 1, 5, 12]]
    assert table.summary.startswith("Over the whole period: 2 of 5 members")


def test_it_ranks_the_top_helpers(town: Town) -> None:
    table = data.helpers(picks(town))
    # Ben: thanked once, his answer accepted, first to answer c1, c4 and c6: 3 + 2 × 2 = 7.
    # Cat: thanked once, first in c5: 1 + 2 = 3. Staff answered c2 first but is left out.
    assert table.rows == [["Ben", 1, 1, 3, 7], ["Cat", 1, 0, 1, 3]]
    assert table.links == [f"/members/{town.members[n].pk}/" for n in ("Ben", "Cat")]
    assert data.helpers(picks(town, segment=True)).rows == [["Ben", 1, 1, 3, 7]]
    week_one = picks(town, until="2024-03-10")
    assert data.helpers(week_one).rows == [["Ben", 1, 0, 1, 3]]


@pytest.mark.parametrize("slug", list(data.CHARTS))
def test_every_chart_draws_columns_it_has(town: Town, slug: str) -> None:
    chart = data.CHARTS[slug]
    table = chart.table(picks(town))
    keys = [c.key for c in table.columns]
    assert set(chart.series) <= set(keys)
    assert all(len(row) == len(keys) for row in table.rows)
