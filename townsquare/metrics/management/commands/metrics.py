"""`townsquare metrics NAME`: one community metric of docs/metrics.md, as a table or JSON."""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from townsquare.listening.pulse import PERIODS
from townsquare.metrics import definitions as m
from townsquare.metrics import results, rollups

# Not a metric: recounts the rollup tables the metrics read (townsquare/metrics/rollups.py).
REBUILD = "rebuild-rollups"


def _fail(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def _day(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(f"{option}: expected a date as YYYY-MM-DD, got {value!r}") from None


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


class Command(BaseCommand):
    help = (
        "Print one community metric (docs/metrics.md): "
        + ", ".join(m.METRICS)
        + ". --since and --until are UTC days, both included. `townsquare metrics "
        + REBUILD
        + "` recounts the rollup tables from every interaction instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # Names and values are checked in handle(), so bad input is a CommandError (exit 2)
        # whose message names the option, whether called from the shell or call_command.
        parser.add_argument("name", help="the metric: " + ", ".join(m.METRICS))
        parser.add_argument("--source", help="only the source of this name")
        parser.add_argument("--channel", help="only the channels of this name")
        parser.add_argument("--since", help="first day, YYYY-MM-DD (UTC), included")
        parser.add_argument(
            "--until",
            help="last day, YYYY-MM-DD (UTC), included; for active-members the day measured "
            "(default: today), for drifting-away and inactive-members the day 'now' ends",
        )
        parser.add_argument(
            "--period", default="month", help="ttfr, sentiment-trend: " + ", ".join(PERIODS)
        )
        parser.add_argument("--hours", default=str(m.UNANSWERED_HOURS), help="unanswered")
        parser.add_argument("--days", default=str(m.INACTIVE_DAYS), help="inactive-members")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **opts: Any) -> None:
        name: str = opts["name"]
        if name == REBUILD:
            started = time.perf_counter()
            rollups.rebuild()
            seconds = time.perf_counter() - started
            self.stdout.write(f"Rollups recounted from every interaction in {seconds:.1f} s.")
            return
        if name not in m.METRICS:
            raise _fail(f"NAME: expected one of {', '.join(m.METRICS)}, got {name!r}")
        since = _day("--since", opts["since"])
        last = _day("--until", opts["until"])
        if since is not None and last is not None and since > last:
            raise _fail("--since: expected a day on or before --until")
        if opts["period"] not in PERIODS:
            raise _fail(f"--period: expected one of {', '.join(PERIODS)}, got {opts['period']!r}")
        hours = self._whole("--hours", opts["hours"])
        days = self._whole("--days", opts["days"])
        scope = results.scope_for(
            source=opts["source"], channel=opts["channel"], since=since, last=last
        )
        try:
            # The API's code path too (metrics/results.py): the two cannot disagree.
            data = results.compute(
                name, scope, period=opts["period"], hours=hours, days=days, last=last
            )
        except m.ScopeError as e:
            raise _fail(str(e)) from None
        if opts["json"]:
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
            return
        self._print(name, data)

    @staticmethod
    def _whole(option: str, value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise _fail(f"{option}: expected a whole number, got {value!r}") from None
        if number < 0:
            raise _fail(f"{option}: expected a number from 0 on, got {number}")
        return number

    def _print(self, name: str, data: dict[str, Any]) -> None:
        w = self.stdout.write
        if name == "ttfr":
            w(
                f"{'channel':<24}{'period':<12}{'opened':>8}{'answered':>10}{'median':>11}{'p90':>11}"
            )
            for r in data["rows"]:
                w(
                    f"{r['channel'] or 'all':<24}{r['period_start']:<12}{r['conversations']:>8}"
                    f"{r['responded']:>10}{_duration(r['median_seconds']):>11}"
                    f"{_duration(r['p90_seconds']):>11}"
                )
            w("Conversations without a response have no time and are left out of the median.")
        elif name == "unanswered":
            w(f"Awaiting a reply, opened at or before {data['cutoff']} ({data['hours']} h ago)")
            for channel, count in data["per_channel"].items():
                w(f"  {channel:<30}{count:>8}")
            w(f"  {'total':<30}{data['total']:>8}")
        elif name == "new-members":
            w(f"{'month':<12}{'new members':>12}")
            for month, count in data["per_month"].items():
                w(f"{month:<12}{count:>12}")
        elif name == "active-members":
            w(f"Active members on {data['day']} (UTC)")
            w(f"  DAU {data['dau']}   WAU {data['wau']}   MAU {data['mau']}")
            w(f"  DAU/MAU {data['dau_mau']:.1f}")
        elif name == "retention":
            w(f"{'cohort':<12}{'members':>8}  share active in month M+0, M+1, …")
            for c in data["cohorts"]:
                shares = " ".join(f"{s * 100:5.1f}" for s in c["retained"])
                w(f"{c['month']:<12}{c['members']:>8}  {shares}")
        elif name == "drifting-away":
            w(
                f"Drifting away as of {data['as_of']}: active since {data['window_since']}, "
                f"silent since {data['recent_since']}: {data['count']}"
            )
            for member in data["members"]:
                w(f"  {member['name']:<30}{member['interactions']:>8}  last {member['last_at']}")
        elif name == "inactive-members":
            w(f"Last interaction over {data['days']} days before {data['as_of']}, per month")
            for month, count in data["per_month"].items():
                w(f"  {month:<12}{count:>8}")
            w(f"  {'total':<12}{data['total']:>8}")
        elif name == "absence-factor":
            w(
                f"Absence factor {data['factor']} ({data['members']} members, "
                f"{data['interactions']} interactions)"
            )
        elif name == "onion":
            w(f"{'layer':<10}{'members':>9}{'interactions':>14}")
            for layer in ("core", "regular", "casual"):
                w(f"{layer:<10}{data[layer]['members']:>9}{data[layer]['interactions']:>14}")
        elif name == "sentiment-trend":
            w(
                f"{'channel':<24}{'period':<12}{'messages':>9}{'mean':>8}{'negative':>10}"
                f"{'unsupported':>13}"
            )
            for r in data["rows"]:
                mean = "-" if r["mean_compound"] is None else f"{r['mean_compound']:+.3f}"
                w(
                    f"{r['channel'] or 'all':<24}{r['period_start']:<12}{r['messages']:>9}"
                    f"{mean:>8}{_share(r['negative_share']):>10}{r['unsupported']:>13}"
                )
            w("Messages in an unsupported language are left out of the mean and counted apart.")
        else:
            for label, key in (("UTC", "utc"), (data["time_zone"], "local")):
                w(f"Messages per weekday and hour, {label}")
                w("     " + "".join(f"{h:>5}" for h in range(24)))
                for day, cells in zip(m.WEEKDAYS, data[key], strict=True):
                    w(f"{day:<5}" + "".join(f"{n:>5}" for n in cells))
