"""Sending webhooks as a background task: queued when deliveries are filed, and by the
scheduler every minute while any are due (townsquare/lib/schedule.py)."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def send_due_task() -> dict[str, Any]:
    from townsquare.webhooks.sending import send_due

    return send_due().as_dict()


@task()
def prune_log_task() -> int:
    from townsquare.webhooks.sending import prune_log

    return prune_log()
