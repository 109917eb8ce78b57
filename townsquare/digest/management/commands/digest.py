"""`townsquare digest [--week YYYY-MM-DD] [--send] [--print]`: build (and mail) a weekly
digest now, instead of waiting for the scheduler."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from townsquare.digest import services
from townsquare.digest.content import last_full_week


class Command(BaseCommand):
    help = (
        "Build the weekly digest of the last full week (or of --week) and store it; --print "
        "shows it as text, --send mails it to staff unless it was mailed already."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--week", help="any day of the week, YYYY-MM-DD (default: the last full week)"
        )
        parser.add_argument("--send", action="store_true", help="mail it, once per week")
        parser.add_argument("--print", action="store_true", help="print it as plain text")

    def handle(self, *args: Any, **opts: Any) -> None:
        now = timezone.now()
        week = last_full_week(now)
        if opts["week"]:
            try:
                day = date.fromisoformat(opts["week"])
            except ValueError:
                raise CommandError(
                    f"--week: expected a date as YYYY-MM-DD, got {opts['week']!r}", returncode=2
                ) from None
            week = day - timedelta(days=day.weekday())
        try:
            digest = services.do_build_digest(week_start=week, now=now)
        except services.WeekNotOver as e:
            raise CommandError(f"--week: {e}; a digest covers a whole week", returncode=2) from e
        label = digest.content["week"]["label"]
        if digest.sent_at is None:
            self.stdout.write(f"Built the digest of {label} (week of {week:%Y-%m-%d}).")
        else:
            self.stdout.write(
                f"The digest of {label} was mailed on {digest.sent_at:%Y-%m-%d %H:%M} UTC to "
                f"{digest.recipient_count} people; it stays as it was mailed."
            )
        if opts["print"]:
            self.stdout.write(services.render_text(digest))
        if opts["send"]:
            sent = services.do_send_digest(digest=digest, now=now)
            if sent is None:
                self.stdout.write("Not mailed again.")
            else:
                self.stdout.write(f"Mailed to {sent} {'person' if sent == 1 else 'people'}.")
