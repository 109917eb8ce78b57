"""`townsquare members`: a member's data on request, exported as JSON or erased."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from townsquare.community.models import Member
from townsquare.community.privacy import do_erase_member, do_export_member


class Command(BaseCommand):
    help = "Export everything about a member as JSON, or erase their personal data."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        export = actions.add_parser(
            "export", help="write everything about a member as JSON (stdout by default)"
        )
        export.add_argument("member_id", type=int, metavar="ID")
        export.add_argument("--out", type=Path, metavar="FILE", help="write to this file")
        erase = actions.add_parser(
            "erase",
            help="erase a member's personal data for good, keeping anonymous counts",
        )
        erase.add_argument("member_id", type=int, metavar="ID")
        erase.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
        erase.add_argument("--reason", default="", help="why (kept in the audit log)")

    def handle(self, *args: Any, **opts: Any) -> None:
        member = Member.objects.filter(pk=opts["member_id"]).first()
        if member is None:
            raise CommandError(f"no member #{opts['member_id']}", returncode=2)
        if opts["action"] == "export":
            self._export(member, opts["out"])
        else:
            self._erase(member, yes=opts["yes"], reason=opts["reason"])

    def _export(self, member: Member, out: Path | None) -> None:
        data = do_export_member(member=member, actor=None)
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if out is None:
            self.stdout.write(text, ending="")
            return
        out.write_text(text, encoding="utf-8")
        self.stderr.write(
            f"Exported member #{data['member']['id']} ({len(data['interactions'])} "
            f"interactions) to {out}."
        )

    def _erase(self, member: Member, *, yes: bool, reason: str) -> None:
        if not yes:
            raise CommandError(
                f"erasing member #{member.pk} removes their names, handles, emails and message "
                "texts for good; run again with --yes to confirm",
                returncode=2,
            )
        erasure = do_erase_member(member=member, actor=None, reason=reason)
        ids = ", ".join(f"#{pk}" for pk in erasure.member_ids)
        counts = erasure.counts
        self.stdout.write(
            f"Erased member {ids}: {counts['identities']} identities, "
            f"{counts['interactions']} interactions blanked (kept for the counts), "
            f"{counts['notes']} notes, {counts['touchpoints']} touchpoints and "
            f"{counts['knowledge_entries']} knowledge entries deleted."
        )
        if erasure.log_checkpointed is False:
            self.stdout.write(
                "The database's write-ahead log still holds old pages (another process is "
                "reading); they are overwritten at its next checkpoint."
            )
        self.stdout.write(
            "Erase them from the platform's exports too: importing an export that still "
            "holds them creates them again."
        )
