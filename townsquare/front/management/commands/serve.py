from __future__ import annotations

import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from townsquare.lib.tasks import backend_kind


class Command(BaseCommand):
    help = (
        "Apply pending migrations and serve the web UI (waitress, a production WSGI server). "
        "With the database task backend, a background worker runs beside it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--no-migrate", action="store_true", help="do not apply pending migrations first"
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="do not start the background worker and scheduler",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        from waitress import serve

        from townsquare.wsgi import application

        if not opts["no_migrate"]:
            call_command("migrate", verbosity=0, interactive=False)
        worker = None
        # In embedded mode one command runs everything; with Redis, workers are run apart.
        if backend_kind() == "db" and not opts["no_worker"]:
            worker = subprocess.Popen(
                [sys.executable, "-m", "townsquare.cli", "worker", "--verbosity", "0"]
            )
            self.stdout.write("A background worker is running beside the web server.")
        scheduler = None
        if not opts["no_worker"]:
            scheduler = subprocess.Popen(
                [sys.executable, "-m", "townsquare.cli", "scheduler", "--verbosity", "0"]
            )
        self.stdout.write(f"Townsquare is serving on http://{opts['host']}:{opts['port']}/")
        self.stdout.flush()
        try:
            serve(application, host=opts["host"], port=opts["port"], threads=opts["threads"])
        finally:
            for process in (worker, scheduler):
                if process is None:
                    continue
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
