"""The weekly digest as a background task, queued every hour by the scheduler
(townsquare/lib/schedule.py): it builds and mails the last full week's digest once it is due,
and does nothing otherwise."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def send_digest_task() -> dict[str, Any]:
    from townsquare.digest.services import send_due_digest

    return send_due_digest().as_dict()
