"""The data of every chart of the Reports page: one function per chart, taking the checked
pickers and returning a small table that the chart, its table view and its downloads all
read. The figures come from the tested metric functions (townsquare/metrics/definitions.py,
docs/metrics.md); this module only picks, orders and rounds them, so the SQL stays there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from django.conf import settings
from django.urls import reverse

from townsquare.listening import pulse
from townsquare.metrics import definitions as m
from townsquare.reports.forms import Picks

# How a column's values read: in the table view, the downloads' types and the chart's axis.
Kind = Literal["text", "date", "int", "float", "percent", "hours"]
Draw = Literal["bar", "line", "hbar", "heatmap"]
TOP_TOPICS = 15
TOP_HELPERS = 10


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: Kind = "int"


@dataclass
class Table:
    """A chart's numbers: its columns and rows (None: no value), and, for the table view,
    a link for each row's first cell (or None) and a sentence about the whole period."""

    columns: list[Column]
    rows: list[list[Any]]
    links: list[str | None] = field(default_factory=list)
    summary: str = ""


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _bucket_column(picks: Picks) -> Column:
    labels = {"day": "Day", "week": "Week starting", "month": "Month"}
    return Column("period_start", labels[picks.period], "date")


def activity(picks: Picks) -> Table:
    counts = m.activity(picks.scope(), picks.period)
    return Table(
        [_bucket_column(picks), Column("messages", "Messages")],
        [[start, counts.get(start, 0)] for start in picks.buckets()],
    )


def active_members(picks: Picks) -> Table:
    # Each period's figures are those of its last day (the range's last day for the last one).
    rows = []
    for start in picks.buckets():
        day = min(pulse.next_bucket(start, picks.period), picks.until) - timedelta(days=1)
        figures = m.active_members(picks.scope(), day)
        rows.append([day, figures.dau, figures.wau, figures.mau, round(figures.dau_mau, 1)])
    return Table(
        [
            Column("day", "Day", "date"),
            Column("dau", "DAU"),
            Column("wau", "WAU"),
            Column("mau", "MAU"),
            Column("dau_mau", "DAU/MAU (%)", "float"),
        ],
        rows,
    )


def new_members(picks: Picks) -> Table:
    counts = m.new_members(picks.scope(), picks.period)
    return Table(
        [_bucket_column(picks), Column("new_members", "New members")],
        [[start, counts.get(start, 0)] for start in picks.buckets()],
    )


def retention(picks: Picks) -> Table:
    # Cohorts are calendar months: every month the period touches.
    cohorts = m.retention(picks.scope(since=picks.since.replace(day=1)))
    span = max((len(c.retained) for c in cohorts), default=1)
    columns = [Column("cohort", "First seen in", "date"), Column("members", "Members")]
    columns += [Column(f"m{k}", f"M+{k} (%)", "percent") for k in range(span)]
    rows = []
    for cohort in cohorts:
        shares = [_percent(s) for s in cohort.retained]
        rows.append([cohort.month, cohort.members, *shares, *[None] * (span - len(shares))])
    return Table(columns, rows)


def response_time(picks: Picks) -> Table:
    found = {t.period_start: t for t in m.ttfr(picks.scope(), picks.period, channels=False)}
    rows = []
    for start in picks.buckets():
        t = found.get(start)
        if t is None:
            rows.append([start, 0, 0, None, None])
        else:
            rows.append(
                [
                    start,
                    t.conversations,
                    t.responded,
                    _hours(t.median_seconds),
                    _hours(t.p90_seconds),
                ]
            )
    return Table(
        [
            _bucket_column(picks),
            Column("conversations", "Conversations"),
            Column("responded", "With a response"),
            Column("median_hours", "Median (hours)", "hours"),
            Column("p90_hours", "90th percentile (hours)", "hours"),
        ],
        rows,
    )


def unanswered(picks: Picks) -> Table:
    found = {u.period_start: u for u in m.unanswered_share(picks.scope(), picks.period)}
    rows = []
    for start in picks.buckets():
        u = found.get(start) or m.UnansweredShare(start, 0, 0)
        rows.append([start, u.conversations, u.unanswered, _percent(u.share)])
    return Table(
        [
            _bucket_column(picks),
            Column("conversations", f"Opened over {m.UNANSWERED_HOURS} hours ago"),
            Column("unanswered", "Awaiting a reply"),
            Column("unanswered_share", "Unanswered (%)", "percent"),
        ],
        rows,
    )


def sentiment(picks: Picks) -> Table:
    points = m.sentiment_trend(picks.scope(), picks.period, channels=False)
    rows = [
        [
            p.period_start,
            p.messages,
            None if p.mean_compound is None else round(p.mean_compound, 3),
            _percent(p.negative_share),
            p.unsupported,
        ]
        for p in points
    ]
    return Table(
        [
            _bucket_column(picks),
            Column("messages", "Messages"),
            Column("mean_sentiment", "Mean sentiment (−1 to 1)", "float"),
            Column("negative_share", "Negative (%)", "percent"),
            Column("unsupported", "Unsupported language"),
        ],
        rows,
    )


def topics(picks: Picks) -> Table:
    found = m.topics(picks.scope(), limit=TOP_TOPICS)
    rows = [
        [t.keyword, t.count, _percent(t.share), t.previous_count, round(t.lift, 2)] for t in found
    ]
    return Table(
        [
            Column("keyword", "Keyword", "text"),
            Column("messages", "Messages"),
            Column("share", "Share of messages (%)", "percent"),
            Column("previous_messages", "Messages in the previous period"),
            Column("lift", "Lift", "float"),
        ],
        rows,
    )


def hours(picks: Picks) -> Table:
    heatmap = m.activity_heatmap(picks.scope())
    return Table(
        [Column("weekday", "Day", "text")]
        + [Column(f"h{hour:02d}", f"{hour:02d}") for hour in range(24)],
        [[name, *cells] for name, cells in zip(m.WEEKDAYS, heatmap.local, strict=True)],
    )


def onion(picks: Picks) -> Table:
    layers = m.onion(picks.scope())
    total = sum(layer.interactions for layer in (layers.core, layers.regular, layers.casual))
    rows = [
        [
            name,
            layer.members,
            layer.interactions,
            _percent(layer.interactions / total if total else None),
        ]
        for name, layer in (
            ("Core", layers.core),
            ("Regular", layers.regular),
            ("Casual", layers.casual),
        )
    ]
    return Table(
        [
            Column("layer", "Layer", "text"),
            Column("members", "Members"),
            Column("interactions", "Interactions"),
            Column("share", "Share of interactions (%)", "percent"),
        ],
        rows,
    )


def absence_factor(picks: Picks) -> Table:
    rows = []
    for start in picks.buckets():
        since = max(start, picks.since)
        until = min(pulse.next_bucket(start, picks.period), picks.until)
        f = m.absence_factor(picks.scope(since=since, until=until))
        rows.append([start, f.factor, f.members, f.interactions])
    whole = m.absence_factor(picks.scope())
    summary = (
        f"Over the whole period: {whole.factor} of {whole.members} members "
        f"account for half of the {whole.interactions} interactions."
        if whole.interactions
        else "No interaction in this period."
    )
    return Table(
        [
            _bucket_column(picks),
            Column("absence_factor", "Absence factor"),
            Column("members", "Members"),
            Column("interactions", "Interactions"),
        ],
        rows,
        summary=summary,
    )


def helpers(picks: Picks) -> Table:
    found = m.top_helpers(picks.scope(), limit=TOP_HELPERS)
    return Table(
        [
            Column("member", "Member", "text"),
            Column("thanks", "Thanks"),
            Column("accepted", "Accepted answers"),
            Column("first_responses", "First responses"),
            Column("score", "Score"),
        ],
        [[h.name, h.thanks, h.accepted, h.first_responses, h.score] for h in found],
        links=[reverse("member", args=[h.member_id]) for h in found],
    )


@dataclass(frozen=True)
class Chart:
    """A chart of the page: how it reads (heading and caption), where its table comes from,
    how it is drawn (the columns drawn; the first column labels them), and whether a segment
    narrows it."""

    slug: str
    title: str
    caption: str
    table: Callable[[Picks], Table]
    draw: Draw
    series: tuple[str, ...] = ()
    by_segment: bool = True
    # Heatmaps: the first shaded column.
    shade_from: int = 1

    def caption_text(self) -> str:
        return self.caption.format(time_zone=settings.COMMUNITY_TIME_ZONE)


CHARTS: dict[str, Chart] = {
    c.slug: c
    for c in (
        Chart(
            "activity",
            "Activity over time",
            "Messages written (posts, replies, comments, messages, answers) per period, by "
            "everyone, staff and bots included.",
            activity,
            "bar",
            ("messages",),
        ),
        Chart(
            "active-members",
            "Active members: DAU, WAU, MAU",
            "Members with any interaction on the day, in the 7 days and in the 30 days "
            "ending with the last day of each period; staff and bots left out.",
            active_members,
            "line",
            ("dau", "wau", "mau"),
        ),
        Chart(
            "new-members",
            "New members",
            "Members whose first interaction falls in each period.",
            new_members,
            "bar",
            ("new_members",),
        ),
        Chart(
            "retention",
            "Retention by cohort",
            "Members grouped by the month of their first interaction: the share of them "
            "active again in each following month (M+0 is the first month).",
            retention,
            "heatmap",
            shade_from=2,
        ),
        Chart(
            "response-time",
            "Time to first response",
            "Hours from a conversation's first message to the first response by someone "
            "else (not a bot): the median and the 90th percentile of the conversations opened "
            "in each period. Conversations without a response have no time and are left out.",
            response_time,
            "line",
            ("median_hours", "p90_hours"),
        ),
        Chart(
            "unanswered",
            "Unanswered conversations",
            f"Of the conversations opened in each period more than {m.UNANSWERED_HOURS} "
            "hours ago, the share still awaiting a reply from someone other than the author.",
            unanswered,
            "bar",
            ("unanswered_share",),
        ),
        Chart(
            "sentiment",
            "Sentiment",
            "Mean sentiment of the messages (from −1 to 1) and the share of negative ones, per "
            "period. Messages in a language the analyzer does not support are left out and "
            "counted apart.",
            sentiment,
            "line",
            ("mean_sentiment", "negative_share"),
            by_segment=False,
        ),
        Chart(
            "topics",
            "Top topics",
            "The keywords of most messages in the period, with their lift: their share of "
            "messages now over their share in the previous period of the same length (above "
            "1: rising).",
            topics,
            "hbar",
            ("messages",),
            by_segment=False,
        ),
        Chart(
            "hours",
            "Activity by hour and weekday",
            "Messages written in each hour of each weekday over the period, in the "
            "community's time zone ({time_zone}).",
            hours,
            "heatmap",
        ),
        Chart(
            "onion",
            "Onion model",
            "Members ranked by interactions: the core write the first 80 % of them, the "
            "regulars the next 15 %, the casual members the rest. Staff and bots left out.",
            onion,
            "bar",
            ("members",),
        ),
        Chart(
            "absence-factor",
            "Absence factor",
            "The smallest number of members who account for half of the interactions, per "
            "period: the fewer, the more the community rests on a few people.",
            absence_factor,
            "line",
            ("absence_factor",),
        ),
        Chart(
            "helpers",
            "Top helpers",
            "Members whose help others acknowledged: thanks received, answers accepted and "
            "conversations they answered first. Score: first responses + 2 × (thanks + "
            "accepted answers).",
            helpers,
            "hbar",
            ("score",),
        ),
    )
}
