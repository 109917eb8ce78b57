"""`townsquare demo`: generate the demo community, import it, create the demo login, serve."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from townsquare.community.models import Interaction
from townsquare.connectors.services import do_import
from townsquare.demo.generator import generate_demo, previous_end
from townsquare.listening.alerts import check_alerts
from townsquare.listening.models import Alert, TermKind
from townsquare.listening.services import do_track_term
from townsquare.moderation.models import WatchedWordAction
from townsquare.moderation.services import do_watch_word
from townsquare.staff.models import Role
from townsquare.staff.services import do_add_staff

DEMO_USER = "demo"
DEMO_PASSWORD = "demo"  # noqa: S105 - the demo's published login, shown on screen
# One login per role besides the superuser, each with its name as password, like demo / demo.
DEMO_ROLES = (Role.MANAGER, Role.MODERATOR, Role.VIEWER)
# What a team sets up on its first day: words its moderators watch (term, action, tag) and the
# terms its community managers track (term, kind).
DEMO_WATCHED_WORDS = (
    ("giveaway", WatchedWordAction.FLAG, ""),
    ("stupid", WatchedWordAction.FLAG, ""),
    ("roadmap", WatchedWordAction.TAG, "roadmap"),
)
DEMO_TRACKED_TERMS = (("Plotline", TermKind.BRAND), ("choropleth", TermKind.KEYWORD))
# The days of history checked for spikes once imported, as a month of daily checks would have.
DEMO_ALERT_DAYS = 30


class Command(BaseCommand):
    help = (
        "Generate a realistic demo community (Slack, Q&A site, mailing list), import it, "
        "create the demo login (demo / demo) and serve the web UI."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="set up the demo, then exit")
        parser.add_argument("--seed", type=int, default=42, help="same seed, same community")
        parser.add_argument("--members", type=int, default=2000)
        parser.add_argument("--interactions", type=int, default=50000)
        parser.add_argument(
            "--out", type=Path, help="where to write the exports (default: DATA_DIR/demo)"
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **opts: Any) -> None:
        call_command("migrate", verbosity=0, interactive=False)
        out: Path = opts["out"] or Path(settings.DATA_DIR) / "demo"
        self.stdout.write(
            f"Generating {opts['members']:,} members and about {opts['interactions']:,} "
            f"interactions into {out} ..."
        )
        end = previous_end(out, opts["seed"], opts["members"], opts["interactions"])
        if end is not None:
            # The same community as last time: its files (and so its ids) stay the same, and
            # importing them again adds nothing.
            self.stdout.write(
                f"Reusing the community generated up to {end:%Y-%m-%d} (delete {out} for a "
                "fresh one ending today)."
            )
        exports = generate_demo(
            out,
            seed=opts["seed"],
            members=opts["members"],
            interactions=opts["interactions"],
            end=end,
        )
        slack, qa, mail = (
            exports.counts["slack"],
            exports.counts["stackexchange"],
            exports.counts["mbox"],
        )
        self.stdout.write(
            f"  Slack workspace  {exports.slack_dir}: {slack['users']:,} users, "
            f"{slack['messages']:,} messages ({slack['replies']:,} thread replies), "
            f"{slack['reactions']:,} reactions"
        )
        self.stdout.write(
            f"  Q&A site         {exports.stackexchange_dir}: {qa['users']:,} users, "
            f"{qa['questions']:,} questions ({qa['unanswered']:,} unanswered), "
            f"{qa['answers']:,} answers, {qa['comments']:,} comments, {qa['votes']:,} votes, "
            f"{qa['badges']:,} badges"
        )
        self.stdout.write(
            f"  Mailing list     {exports.mbox_file}: {mail['messages']:,} messages in "
            f"{mail['threads']:,} threads from {mail['senders']:,} senders"
        )

        for format, path, source in (
            ("slack", exports.slack_dir, "Demo Slack"),
            ("stackexchange", exports.stackexchange_dir, "Demo Q&A"),
            ("mbox", exports.mbox_file, "Demo mailing list"),
        ):
            run = do_import(format=format, path=path, source_name=source)
            self.stdout.write(f"Imported {source!r} (run #{run.pk}): {_summary(run.counts)}")
            if run.rejected_count:
                self.stderr.write(
                    f"  {run.rejected_count} records rejected: townsquare runs {run.pk}"
                )

        # Before the enrichment, which flags and tags what they match.
        for term, action, tag in DEMO_WATCHED_WORDS:
            do_watch_word(term=term, action=action, tag=tag, user=None)
        for term, kind in DEMO_TRACKED_TERMS:
            do_track_term(term=term, kind=kind, user=None)
        # Analyse the messages now, so the first page the newcomer opens is already enriched;
        # the tasks the imports queued then find nothing left to do.
        self.stdout.write("Enriching the messages (language, sentiment, questions, thanks...)")
        call_command("enrich", verbosity=opts["verbosity"])
        # Engagement levels and identity suggestions are refreshed by the tasks the imports
        # queued; computed now, the demo shows them before any worker has run.
        call_command("engagement", verbosity=opts["verbosity"])
        call_command("resolve", verbosity=opts["verbosity"])
        # The care queue, so Today opens on the people who need a touch.
        self.stdout.write("Finding who needs a personal touch (the care queue)")
        call_command("care", "refresh", verbosity=opts["verbosity"])
        # The spikes a running installation would have alerted on as this history came in:
        # the check that follows each enrichment looks at the last few days only.
        alerts = _check_history_for_spikes()
        self.stdout.write(
            f"Looked for spikes over the last {DEMO_ALERT_DAYS} days of the history: "
            f"{len(alerts)} alert{'' if len(alerts) == 1 else 's'} (Pulse lists them)"
        )

        host, port = opts["host"], opts["port"]
        if not User.objects.filter(username=DEMO_USER).exists():
            User.objects.create_superuser(DEMO_USER, "demo@example.com", DEMO_PASSWORD)
            self.stdout.write(f"Created the staff login {DEMO_USER!r}.")
        for role in DEMO_ROLES:
            if not User.objects.filter(username=role.value).exists():
                do_add_staff(
                    username=role.value,
                    email=f"{role.value}@example.com",
                    role=role,
                    password=role.value,
                )
        self.stdout.write(f"Log in at http://{host}:{port}/ as {DEMO_USER} / {DEMO_PASSWORD}")
        others = ", ".join(f"{role.value} / {role.value}" for role in DEMO_ROLES)
        self.stdout.write(f"  (an admin; to see what each role sees, log in as {others})")
        if not opts["no_serve"]:
            call_command("serve", host=host, port=port)


def _check_history_for_spikes() -> list[Alert]:
    """Store the alerts of the last DEMO_ALERT_DAYS days of the history, without email; those
    already stored are not stored again."""
    last = Interaction.newest_day()
    if last is None:
        return []
    until = last + timedelta(days=1)
    return check_alerts(until - timedelta(days=DEMO_ALERT_DAYS), until, email=False)


def _summary(counts: dict[str, dict[str, int]]) -> str:
    parts = []
    for state in ("created", "updated", "unchanged"):
        by_kind = counts.get(state) or {}
        total = sum(by_kind.values())
        detail = ", ".join(f"{n:,} {kind}" for kind, n in sorted(by_kind.items()))
        parts.append(f"{total:,} {state}" + (f" ({detail})" if detail else ""))
    return "; ".join(parts)
