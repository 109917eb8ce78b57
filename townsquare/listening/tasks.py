"""Background tasks of listening, through Django's Tasks API (the django-tasks backport).

The backend is settings.TASKS (TOWNSQUARE_TASK_BACKEND: db, rq or immediate); `townsquare
worker` runs the matching worker. Task arguments and results are JSON.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

from django_tasks import TaskResultStatus, task

from townsquare.connectors.models import ImportRun

logger = logging.getLogger(__name__)


@task()
def enrich_pending_task(
    rebuild: bool = False, limit: int | None = None, since: str | None = None
) -> dict[str, Any]:
    """Enrich every stale interaction (all of them with `rebuild`); with `since` (an ISO
    time), only those imported since then: what an import queues. The scheduler's hourly
    sweep, without it, catches anything else."""
    from townsquare.listening.pipeline import enrich_pending

    moment = datetime.fromisoformat(since) if since else None
    # Every core: a big import's enrichment is CPU-bound (small ones stay in this process).
    stats = enrich_pending(
        rebuild=rebuild, limit=limit, workers=os.cpu_count() or 1, since=moment
    ).as_dict()
    # The care queue reads fresh labels and conversation states; it never fails enrichment.
    # First: people waiting for a touch matter more than the figures below.
    try:
        from townsquare.care.queue import AFTER_NEW_MESSAGES, refresh_queue

        stats["care"] = refresh_queue(rules=AFTER_NEW_MESSAGES).as_dict()
    except Exception:  # any database error
        logger.exception("could not refresh the care queue after enrichment")
    # Spikes are judged on fresh labels; failing to queue the check never fails enrichment.
    try:
        from townsquare.listening.pulse_tasks import check_alerts_task

        check_alerts_task.enqueue()
    except Exception:  # any backend error
        logger.exception("could not queue the alert check after enrichment")
    # Engagement levels follow the new activity; failing to refresh them never fails enrichment.
    try:
        from townsquare.community.engagement import refresh_engagement

        refresh_engagement()
    except Exception:  # any database error
        logger.exception("could not refresh engagement levels after enrichment")
    return stats


@task()
def match_term_task(term_id: int) -> int:
    """Find a newly tracked term in the interactions already there."""
    from townsquare.listening.models import TrackedTerm
    from townsquare.listening.pipeline import match_term

    term = TrackedTerm.objects.filter(id=term_id, is_active=True).first()
    return match_term(term) if term else 0


def enqueue_after_import(run: ImportRun) -> None:
    """Queue enrichment after a successful import. A failure to queue it (Redis down, say)
    never fails the import: it is written to the run's log, and `townsquare enrich` catches
    up later."""
    try:
        # Only what this run wrote: a whole-history sweep costs seconds on millions of rows.
        result = enrich_pending_task.enqueue(since=run.started_at.isoformat())
    except Exception as e:  # any backend error: the import itself succeeded
        logger.exception("could not queue enrichment after import #%s", run.pk)
        _log(
            run,
            f"Enrichment could not be queued ({type(e).__name__}: {e}); "
            "run `townsquare enrich` to catch up.",
        )
        return
    # The immediate backend has already run it, and keeps a failure in the result.
    if result.status == TaskResultStatus.FAILED:
        errors = getattr(result, "errors", None) or []
        cause = errors[-1].exception_class_path if errors else "unknown error"
        _log(run, f"Enrichment failed ({cause}); run `townsquare enrich` to retry.")


def _log(run: ImportRun, line: str) -> None:
    run.log += line + "\n"
    run.save(update_fields=["log"])
