from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Apply pending migrations and serve the web UI (waitress, a production WSGI server)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--no-migrate", action="store_true", help="do not apply pending migrations first"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        from waitress import serve

        from townsquare.wsgi import application

        if not opts["no_migrate"]:
            call_command("migrate", verbosity=0, interactive=False)
        self.stdout.write(f"Townsquare is serving on http://{opts['host']}:{opts['port']}/")
        self.stdout.flush()
        serve(application, host=opts["host"], port=opts["port"], threads=opts["threads"])
