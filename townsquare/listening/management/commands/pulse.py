"""`townsquare pulse`: trends per channel and period, topics; `--check-alerts` looks for spikes."""

from __future__ import annotations

import json
from datetime import UTC, date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from townsquare.community.models import Channel
from townsquare.listening import pulse
from townsquare.listening.alerts import DEFAULT_LOOKBACK_DAYS, check_alerts


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"expected a date as YYYY-MM-DD, got {value!r}") from None


class Command(BaseCommand):
    help = (
        "Print the community's pulse per channel and period (messages, active members, mean "
        "sentiment, negative share, unsupported-language count, top topics with their lift), "
        "or with --check-alerts look for spikes and store them as alerts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=_day, help="first day, YYYY-MM-DD (UTC)")
        parser.add_argument(
            "--until", type=_day, help="last day, included, YYYY-MM-DD (default: today)"
        )
        parser.add_argument("--period", choices=pulse.PERIODS, default="day")
        parser.add_argument("--channel", help="only the channels of this name")
        parser.add_argument("--topics", type=int, default=10, help="top topics to show")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--check-alerts",
            action="store_true",
            help=f"look for spikes (default: the last {DEFAULT_LOOKBACK_DAYS} days), store "
            "new ones as alerts and email staff when alert emails are on",
        )
        parser.add_argument(
            "--k", type=float, help="spike threshold in standard deviations (default: the setting)"
        )
        parser.add_argument("--no-email", action="store_true", help="with --check-alerts")

    def handle(self, *args: Any, **opts: Any) -> None:
        today = timezone.now().astimezone(UTC).date()
        last: date = opts["until"] or today
        until = last + timedelta(days=1)
        if opts["check_alerts"]:
            self._check(opts["since"], until if opts["until"] else None, opts)
            return
        since: date = opts["since"] or last - timedelta(days=29)
        if since > last:
            raise CommandError("--since: expected a day on or before --until")
        channel_ids = None
        if opts["channel"]:
            name = opts["channel"].removeprefix("#")
            channel_ids = list(Channel.objects.filter(name=name).values_list("id", flat=True))
            if not channel_ids:
                raise CommandError(f"--channel: no channel is named {name!r}")
        data = pulse.trends(since, until, opts["period"], channel_ids=channel_ids)
        top = pulse.topics(since, until, channel_ids=channel_ids, limit=opts["topics"])
        if opts["json"]:
            out = data.as_dict()
            out["topics"] = [t.as_dict() for t in top]
            self.stdout.write(json.dumps(out, indent=2, ensure_ascii=False))
            return
        self._print(data, top)

    def _check(self, since: date | None, until: date | None, opts: dict[str, Any]) -> None:
        alerts = check_alerts(since, until, k=opts["k"], email=not opts["no_email"])
        if opts["json"]:
            rows = [
                {
                    "id": a.pk,
                    "channel": a.channel.name if a.channel else None,
                    "metric": a.metric,
                    "window_start": a.window_start.isoformat(),
                    "value": a.value,
                    "mean": a.mean,
                    "std": a.std,
                    "k": a.k,
                    "message": a.message,
                }
                for a in alerts
            ]
            self.stdout.write(json.dumps({"alerts": rows}, indent=2, ensure_ascii=False))
            return
        for alert in alerts:
            self.stdout.write(alert.message)
        self.stdout.write(f"{len(alerts)} new alert{'s' if len(alerts) != 1 else ''}.")

    def _print(self, data: pulse.Trends, top: list[pulse.Topic]) -> None:
        w = self.stdout.write
        last = data.until - timedelta(days=1)
        w(f"Pulse {data.since} to {last} (UTC), per {data.period}")
        header = f"  {'bucket':<12}{'messages':>10}{'active':>8}{'sentiment':>11}{'negative':>10}"
        header += f"{'unsupported':>13}"
        for trend in [data.overall, *data.channels]:
            source = f" ({trend.source})" if trend.source else ""
            w("")
            w(f"{trend.label}{source}")
            w(header)
            for f in [*trend.buckets, trend.total]:
                label = f.start.isoformat() if f.start else "total"
                mean = "-" if f.mean_sentiment is None else f"{f.mean_sentiment:+.3f}"
                share = "-" if f.negative_share is None else f"{f.negative_share * 100:.1f}%"
                w(
                    f"  {label:<12}{f.volume:>10}{f.active_members:>8}{mean:>11}{share:>10}"
                    f"{f.unsupported:>13}"
                )
        w("")
        w("Messages in an unsupported language are left out of sentiment and counted apart.")
        w("")
        w("Top topics (lift over the previous period of the same length)")
        if not top:
            w(f"  none in at least {pulse.MIN_TOPIC_COUNT} messages")
        for t in top:
            w(f"  {t.keyword:<30}{t.count:>6}  was {t.previous_count:<6} lift {t.lift:.2f}")
