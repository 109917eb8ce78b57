"""`townsquare worker`: run the background worker of the configured task backend."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from townsquare.lib.tasks import backend_kind, backend_queues

logger = logging.getLogger(__name__)


def _warm_up() -> None:
    from townsquare.listening.pipeline import warm_up

    try:
        seconds = warm_up(os.cpu_count() or 1)
    except Exception:  # a failed warm-up only means the first import loads the models
        logger.exception("could not load the analyzers' models ahead of the first import")
        return
    logger.info("analyzers ready in %.1f s", seconds)


class Command(BaseCommand):
    help = (
        "Run background tasks (enrichment after imports, new tracked terms) with the worker of "
        "TOWNSQUARE_TASK_BACKEND: the database worker for db, an RQ worker for rq."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--burst", action="store_true", help="run the queued tasks, then exit (for cron/tests)"
        )
        parser.add_argument(
            "--queue",
            action="append",
            dest="queues",
            help="queue to work on (repeatable; default: every queue of the backend)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        kind = backend_kind()
        queues: list[str] = opts["queues"] or backend_queues()
        verbosity = opts["verbosity"]
        if kind in ("db", "rq") and not opts["burst"]:
            # The analyzers' models load now, beside the first tasks, not when the first
            # import's enrichment needs them (about 3 s a process).
            threading.Thread(target=_warm_up, name="analyzer warm-up", daemon=True).start()
        if kind == "db":
            call_command(
                "db_worker",
                queue_name=",".join(queues),
                batch=opts["burst"],
                startup_delay=not opts["burst"],
                reload=False,
                verbosity=verbosity,
            )
        elif kind == "rq":
            # SimpleWorker runs jobs in its own process instead of forking one per job: the
            # analyzers' models then load once per worker, not once per task.
            call_command(
                "rqworker",
                *queues,
                burst=opts["burst"],
                job_class="django_tasks_rq.Job",
                worker_class="rq.worker.SimpleWorker",
                verbosity=verbosity,
            )
        elif kind == "immediate":
            self.stdout.write(
                "TOWNSQUARE_TASK_BACKEND=immediate runs every task when it is queued: "
                "there is no worker to run."
            )
        else:
            raise CommandError(f"the {kind} task backend has no worker")
