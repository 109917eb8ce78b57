"""The spike check as a background task, queued after every enrichment (tasks.py)."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def check_alerts_task() -> dict[str, Any]:
    """Look for spikes on the last few days; store and email the new ones."""
    from townsquare.listening.alerts import check_alerts

    alerts = check_alerts()
    return {"alerts": [alert.pk for alert in alerts]}
