"""Keeping the rollup tables (townsquare/metrics/models.py) equal to a direct count.

A row depends only on the interactions and enrichment of its UTC day (a monthly row: of its
month's daily rows), so keeping the tables right means recounting the days whose interactions
or labels changed: `refresh_days` deletes those days' rows and counts them again, in a few
statements per run of consecutive days, then sums the months they are in again. Who calls it:

- the importer's writer, after each run (`Writer.finish`), with the days of the rows it wrote
  (an edited row's old day too);
- the enrichment pipeline (`enrich_pending`, `enrich_batch`), with the times of the rows it
  (re)labelled (`refresh_times`: the hourly rows of their hours, the keyword rows of their
  days): the message and keyword rows only, the member rows count no label;
- erasure (`privacy.do_erase_member`), whose blanked labels change those counts too.

A merge or an unmerge moves interactions between members: `refresh_members` recounts those
members' rows. `townsquare metrics rebuild-rollups` and the migrations that created the tables
recount everything (`rebuild`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction

from townsquare.listening.models import SentimentLabel
from townsquare.listening.pulse import MESSAGE_KINDS, NOT_HIDDEN, SUPPORTED_LABELS
from townsquare.listening.pulse import _keywords_join as keywords_join


def _hour_sql(column: str) -> str:
    """The start of the UTC hour of a stored datetime, as the database stores datetimes."""
    if connection.vendor == "postgresql":
        return f"date_trunc('hour', {column})"
    # SQLite keeps naive UTC text, 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
    return f"substr({column}, 1, 13) || ':00:00'"


def _at(day: date) -> Any:
    """The start of a UTC day, or an instant (an aware datetime), as the database stores it."""
    if isinstance(day, datetime):
        return connection.ops.adapt_datetimefield_value(day)
    return connection.ops.adapt_datetimefield_value(datetime.combine(day, time(), tzinfo=UTC))


def _marks(values: Iterable[Any]) -> str:
    return ", ".join("%s" for _ in values)


def day_of(value: Any) -> date:
    """The UTC day of a datetime as the database or the ORM returns it."""
    if isinstance(value, datetime):
        moment: datetime = value.astimezone(UTC) if value.tzinfo is not None else value
        return moment.date()
    return date.fromisoformat(str(value)[:10])


def hour_of(value: Any) -> datetime:
    """The start of the UTC hour of a datetime as the database or the ORM returns it."""
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    else:
        moment = datetime.fromisoformat(str(value)[:19]).replace(tzinfo=UTC)
    return moment.replace(minute=0, second=0, microsecond=0)


def hour_runs(hours: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """Consecutive hours as [first, last + 1 hour) ranges, in order."""
    found: list[tuple[datetime, datetime]] = []
    for hour in sorted(set(hours)):
        if found and found[-1][1] == hour:
            found[-1] = (found[-1][0], hour + timedelta(hours=1))
        else:
            found.append((hour, hour + timedelta(hours=1)))
    return found


def runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days as [first, last + 1) ranges, in order."""
    found: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if found and found[-1][1] == day:
            found[-1] = (found[-1][0], day + timedelta(days=1))
        else:
            found.append((day, day + timedelta(days=1)))
    return found


def _refresh_range(since: date | None, until: date | None) -> None:
    bounds, params = "", []
    delete_bounds = ""
    if since is not None:
        bounds += " AND i.created_at >= %s"
        delete_bounds += " AND hour >= %s"
        params.append(_at(since))
    if until is not None:
        bounds += " AND i.created_at < %s"
        delete_bounds += " AND hour < %s"
        params.append(_at(until))
    supported = f"e.sentiment_label IN ({_marks(SUPPORTED_LABELS)})"
    hour = _hour_sql("i.created_at")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM metrics_hourlymessages WHERE 1 = 1{delete_bounds}", params)  # noqa: S608
        cursor.execute(
            "INSERT INTO metrics_hourlymessages (hour, source_id, channel_id, messages,"  # noqa: S608
            " supported, scored, sentiment_sum, negative, unsupported)"
            f" SELECT {hour}, i.source_id, i.channel_id, COUNT(*),"
            f" SUM(CASE WHEN {supported} THEN 1 ELSE 0 END),"
            f" COUNT(CASE WHEN {supported} THEN e.sentiment END),"
            f" COALESCE(SUM(CASE WHEN {supported} THEN e.sentiment END), 0),"
            " SUM(CASE WHEN e.sentiment_label = %s THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN e.sentiment_label = %s THEN 1 ELSE 0 END)"
            " FROM community_interaction i"
            " LEFT JOIN listening_enrichment e ON e.interaction_id = i.id"
            f" WHERE i.kind IN ({_marks(MESSAGE_KINDS)}){bounds}"
            f" GROUP BY {hour}, i.source_id, i.channel_id",
            [
                *SUPPORTED_LABELS,
                *SUPPORTED_LABELS,
                *SUPPORTED_LABELS,
                SentimentLabel.NEGATIVE,
                SentimentLabel.UNSUPPORTED,
                *MESSAGE_KINDS,
                *params,
            ],
        )


def _day_sql(column: str) -> str:
    """The UTC day of a stored datetime, as the database stores dates."""
    if connection.vendor == "postgresql":
        return f"CAST({column} AT TIME ZONE 'UTC' AS date)"
    return f"substr({column}, 1, 10)"


def _month_sql(column: str) -> str:
    """The first day of the month of a stored date."""
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"substr({column}, 1, 7) || '-01'"


def _date(day: date) -> Any:
    return connection.ops.adapt_datefield_value(day)


def _refresh_members(
    days: tuple[date, date] | None = None, member_ids: list[int] | None = None
) -> None:
    """Recount the daily member rows of [first, last) (or of these members), then the monthly
    rows of the months they are in (or of these members) from the daily ones."""
    daily_where, daily_params = "", []
    source_where, source_params = "", []
    monthly_where, monthly_params = "", []
    months_where, months_params = "", []
    if days is not None:
        first_month = days[0].replace(day=1)
        last = days[1] - timedelta(days=1)
        next_month = (last.replace(day=1) + timedelta(days=32)).replace(day=1)
        daily_where = " AND day >= %s AND day < %s"
        daily_params = [_date(days[0]), _date(days[1])]
        source_where = " AND i.created_at >= %s AND i.created_at < %s"
        source_params = [_at(days[0]), _at(days[1])]
        monthly_where = " AND month >= %s AND month < %s"
        monthly_params = [_date(first_month), _date(next_month)]
        months_where = " AND r.day >= %s AND r.day < %s"
        months_params = monthly_params
    if member_ids is not None:
        marks = _marks(member_ids)
        daily_where = monthly_where = f" AND member_id IN ({marks})"
        source_where = f" AND i.member_id IN ({marks})"
        months_where = f" AND r.member_id IN ({marks})"
        daily_params = source_params = monthly_params = months_params = list(member_ids)
    day = _day_sql("i.created_at")
    month = _month_sql("r.day")
    with connection.cursor() as cursor:
        # The members of those days, before and after the recount: their first days may move.
        touched = _members_of_days(cursor, days) if days is not None else set()
        cursor.execute(
            f"DELETE FROM metrics_dailymemberactivity WHERE 1 = 1{daily_where}",  # noqa: S608
            daily_params,
        )
        cursor.execute(
            "INSERT INTO metrics_dailymemberactivity"  # noqa: S608
            " (day, source_id, channel_id, member_id, interactions)"
            f" SELECT {day}, i.source_id, i.channel_id, i.member_id, COUNT(*)"
            " FROM community_interaction i"
            f" WHERE i.member_id IS NOT NULL{source_where}"
            f" GROUP BY {day}, i.source_id, i.channel_id, i.member_id",
            source_params,
        )
        cursor.execute(
            f"DELETE FROM metrics_monthlymemberactivity WHERE 1 = 1{monthly_where}",  # noqa: S608
            monthly_params,
        )
        cursor.execute(
            "INSERT INTO metrics_monthlymemberactivity"  # noqa: S608
            " (month, source_id, channel_id, member_id, interactions)"
            f" SELECT {month}, r.source_id, r.channel_id, r.member_id, SUM(r.interactions)"
            f" FROM metrics_dailymemberactivity r WHERE 1 = 1{months_where}"
            f" GROUP BY {month}, r.source_id, r.channel_id, r.member_id",
            months_params,
        )
        if days is not None:
            touched |= _members_of_days(cursor, days)
            ordered = sorted(touched)
            for start in range(0, len(ordered), 500):
                _refresh_first_seen(cursor, ordered[start : start + 500])
        elif member_ids is not None:
            _refresh_first_seen(cursor, member_ids)


def _members_of_days(cursor: Any, days: tuple[date, date]) -> set[int]:
    cursor.execute(
        "SELECT DISTINCT member_id FROM metrics_dailymemberactivity WHERE day >= %s AND day < %s",
        [_date(days[0]), _date(days[1])],
    )
    return {int(row[0]) for row in cursor.fetchall()}


def _refresh_first_seen(cursor: Any, member_ids: list[int] | None) -> None:
    """Recount these members' first days (None: everyone's) from their daily rows."""
    where, params = "", []
    if member_ids is not None:
        if not member_ids:
            return
        where, params = f" WHERE member_id IN ({_marks(member_ids)})", list(member_ids)
    cursor.execute(f"DELETE FROM metrics_memberfirstseen{where}", params)  # noqa: S608
    cursor.execute(
        "INSERT INTO metrics_memberfirstseen (member_id, source_id, channel_id, first_day)"  # noqa: S608
        f" SELECT member_id, source_id, channel_id, MIN(day) FROM metrics_dailymemberactivity"
        f"{where} GROUP BY member_id, source_id, channel_id",
        params,
    )


def _month_bounds(since: date, until: date) -> list[Any]:
    """The first day of the month of `since` and of the month after the day before `until`."""
    last = until - timedelta(days=1)
    following = (last.replace(day=1) + timedelta(days=32)).replace(day=1)
    return [_date(since.replace(day=1)), _date(following)]


def _refresh_keywords(since: date | None, until: date | None) -> None:
    """Recount the daily keyword rows of [since, until), then the monthly rows of the months
    they are in, from the daily ones (None: all of history)."""
    bounds, params, daily, daily_params = "", [], "", []
    months, months_params = "", []
    if since is not None and until is not None:
        bounds = " AND i.created_at >= %s AND i.created_at < %s"
        params = [_at(since), _at(until)]
        daily = " AND day >= %s AND day < %s"
        daily_params = [_date(since), _date(until)]
        months_params = _month_bounds(since, until)
        months = " AND month >= %s AND month < %s"
    day = _day_sql("i.created_at")
    analyzed = (
        " FROM community_interaction i JOIN listening_enrichment e ON e.interaction_id = i.id"
        "{join}"
        f" WHERE i.kind IN ({_marks(MESSAGE_KINDS)}) AND e.analyzed = %s{bounds}"
        f" AND {NOT_HIDDEN}"
    )
    common = [*MESSAGE_KINDS, True, *params]
    month = _month_sql("r.day")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM metrics_dailykeywords WHERE 1 = 1{daily}", daily_params)  # noqa: S608
        cursor.execute(
            "INSERT INTO metrics_dailykeywords (day, source_id, channel_id, keyword, messages)"
            f" SELECT {day}, i.source_id, i.channel_id, k.value, COUNT(*)"
            + analyzed.format(join=keywords_join())
            + f" GROUP BY {day}, i.source_id, i.channel_id, k.value"
            f" UNION ALL SELECT {day}, i.source_id, i.channel_id, '', COUNT(*)"
            + analyzed.format(join="")
            + f" GROUP BY {day}, i.source_id, i.channel_id",
            [*common, *common],
        )
        cursor.execute(f"DELETE FROM metrics_monthlykeywords WHERE 1 = 1{months}", months_params)  # noqa: S608
        cursor.execute(
            "INSERT INTO metrics_monthlykeywords"  # noqa: S608
            " (month, source_id, channel_id, keyword, messages)"
            f" SELECT {month}, r.source_id, r.channel_id, r.keyword, SUM(r.messages)"
            f" FROM metrics_dailykeywords r WHERE 1 = 1{months.replace('month', 'r.day')}"
            f" GROUP BY {month}, r.source_id, r.channel_id, r.keyword",
            months_params,
        )


# Recounting the keywords of this share of the history's days or more, the whole history is
# recounted instead: a plain scan of the tables beats a walk of the time index that reads
# nearly every row anyway (the first enrichment of 25,000 messages: 0.26 -> 0.21 s).
WHOLE_HISTORY_SHARE = 0.9


def _keyword_runs(days: set[date]) -> list[tuple[date | None, date | None]]:
    """The ranges of days whose keyword rows a refresh of these days recounts."""
    if not days:
        return []  # a run that changed nothing: no read of the history's bounds
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(created_at), MAX(created_at) FROM community_interaction")
        first, last = cursor.fetchone()
    if first is not None:
        history = (day_of(last) - day_of(first)).days + 1
        if len(days) >= WHOLE_HISTORY_SHARE * history:
            return [(None, None)]
    return list(runs(days))


def refresh_days(days: Iterable[date], *, labels_only: bool = False) -> None:
    """Recount the rollups of these UTC days from the interactions; `labels_only`: only those
    holding enrichment labels (messages and keywords; the member rows count no label)."""
    days = set(days)
    with transaction.atomic():
        for since, until in runs(days):
            _refresh_range(since, until)
            if not labels_only:
                _refresh_members(days=(since, until))
        for first, last in _keyword_runs(days):
            _refresh_keywords(first, last)


# Runs of consecutive hours of one day recounted apart at most; more, and the whole day is.
MAX_SPANS_A_DAY = 3
# Runs of hours recounted apart in one refresh at most; more, and every day is recounted whole.
MAX_SPANS = 64


def _distinct_hours(times: Iterable[Any]) -> Iterable[Any]:
    """The times, one per hour, cheaply (tens of thousands of rows' times, a few hundred
    hours): SQLite's stored text starts with 'YYYY-MM-DD HH'; a datetime's ISO form to the
    hour names its hour and, when aware, its offset, so one key is one UTC hour."""
    seen: dict[Any, Any] = {}
    for t in times:
        seen.setdefault(t[:13] if isinstance(t, str) else t.isoformat(timespec="hours"), t)
    return seen.values()


def refresh_times(times: Iterable[Any], *, labels_only: bool = False) -> None:
    """As `refresh_days` for the days of these instants (the changed rows' times), but the
    hourly rows only for their hours: an import's messages span a few hours, and recounting
    two whole busy days of messages took most of a second."""
    hours_by_day: dict[date, set[datetime]] = defaultdict(set)
    for hour in {hour_of(t) for t in _distinct_hours(times)}:
        hours_by_day[hour.date()].add(hour)
    # A day whose rows are spread over several runs of hours is recounted whole, and
    # consecutive whole days in one statement: a run over all of history would otherwise be
    # thousands of statements. So is every day when there are many runs of hours in all (an
    # enrichment of months of history): one statement per run of days beats one per run of
    # hours, even counting the hours nobody changed.
    whole_days: list[date] = []
    spans: list[tuple[datetime, datetime]] = []
    for day, hours in hours_by_day.items():
        day_spans = hour_runs(hours)
        if len(day_spans) > MAX_SPANS_A_DAY:
            whole_days.append(day)
        else:
            spans += day_spans
    if len(spans) > MAX_SPANS:
        whole_days, spans = list(hours_by_day), []
    with transaction.atomic():
        for first, last in runs(whole_days):
            _refresh_range(first, last)
        for since, until in spans:
            _refresh_range(since, until)
        for since_day, until_day in _keyword_runs(set(hours_by_day)):
            _refresh_keywords(since_day, until_day)
        if not labels_only:
            for first, last in runs(hours_by_day):
                _refresh_members(days=(first, last))


def refresh_members(member_ids: Iterable[int]) -> None:
    """Recount the member rows of these members: after a merge or an unmerge moved
    interactions between them."""
    ids = sorted(set(member_ids))
    with transaction.atomic():
        for start in range(0, len(ids), 500):
            _refresh_members(member_ids=ids[start : start + 500])


def rebuild_messages() -> None:
    """Recompute the hourly message rollup of all of history."""
    with transaction.atomic():
        _refresh_range(None, None)


def rebuild_members() -> None:
    """Recompute the daily and monthly member rollups of all of history (first days apart:
    `rebuild_first_seen`)."""
    with transaction.atomic():
        _refresh_members()


def rebuild_first_seen() -> None:
    """Recompute every member's first days from the daily member rows."""
    with transaction.atomic(), connection.cursor() as cursor:
        _refresh_first_seen(cursor, None)


def rebuild_keywords() -> None:
    """Recompute the keyword rollups of all of history."""
    with transaction.atomic():
        _refresh_keywords(None, None)


def rebuild() -> None:
    """Recompute every rollup of all of history."""
    with transaction.atomic():
        rebuild_messages()
        rebuild_members()
        rebuild_first_seen()
        rebuild_keywords()
