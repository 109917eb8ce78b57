"""The scheduler: queues periodic tasks (the care queue's refresh, the spike check, an
enrichment sweep) for the worker. One scheduler per installation: `townsquare scheduler`,
started by `townsquare serve` beside its worker."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    every_seconds: int
    enqueue: Callable[[], object]
    last_run: float | None = None

    def due(self, now: float) -> bool:
        return self.last_run is None or now - self.last_run >= self.every_seconds


def _refresh_care() -> object:
    from townsquare.care.tasks import refresh_queue_task

    return refresh_queue_task.enqueue()


def _check_alerts() -> object:
    from townsquare.listening.pulse_tasks import check_alerts_task

    return check_alerts_task.enqueue()


def _sweep_enrichment() -> object:
    from townsquare.listening.tasks import enrich_pending_task

    return enrich_pending_task.enqueue()


def _send_webhooks() -> object:
    from townsquare.webhooks.sending import any_due
    from townsquare.webhooks.tasks import send_due_task

    # One indexed query a minute; a task only when a delivery (a retry, say) is due.
    return send_due_task.enqueue() if any_due() else None


def _prune_webhook_log() -> object:
    from townsquare.webhooks.tasks import prune_log_task

    return prune_log_task.enqueue()


def _send_digest() -> object:
    from townsquare.digest.tasks import send_digest_task

    return send_digest_task.enqueue()


def default_jobs() -> list[Job]:
    return [
        # Imports enrich what they wrote; the sweep catches anything else (a failed task).
        Job("enrichment sweep", 60 * 60, _sweep_enrichment),
        # Questions cross their answer time and snoozes end without any import.
        Job("care queue refresh", 10 * 60, _refresh_care),
        Job("spike check", 60 * 60, _check_alerts),
        # Mails last week's digest once it is due (docs/digest.md); nothing the other hours.
        Job("weekly digest", 60 * 60, _send_digest),
        # Webhook retries come due without any new event, and survive restarts as rows.
        Job("webhook deliveries", 60, _send_webhooks),
        # The delivery log keeps finished deliveries TOWNSQUARE_WEBHOOK_LOG_DAYS days.
        Job("webhook log pruning", 24 * 60 * 60, _prune_webhook_log),
    ]


def run_due(jobs: list[Job], now: float) -> list[str]:
    """Queue every job that is due; a failure is logged and retried at the next tick."""
    ran = []
    for job in jobs:
        if not job.due(now):
            continue
        try:
            job.enqueue()
        except Exception:  # any task backend error: try again next tick
            logger.exception("could not queue %s", job.name)
            continue
        job.last_run = now
        ran.append(job.name)
    return ran


def run_forever(jobs: list[Job], tick_seconds: float = 30.0) -> None:
    while True:
        for name in run_due(jobs, time.monotonic()):
            logger.info("queued %s", name)
        time.sleep(tick_seconds)
