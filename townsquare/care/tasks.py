"""The queue's refresh as a background task: queued after every enrichment and by the
scheduler (townsquare/lib/schedule.py)."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def refresh_queue_task() -> dict[str, Any]:
    from townsquare.care.queue import refresh_queue

    return refresh_queue().as_dict()
