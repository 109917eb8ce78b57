"""Background tasks of the connectors, through Django's Tasks API (the django-tasks backport)."""

from __future__ import annotations

from django_tasks import task


@task()
def import_upload_task(upload_id: int) -> str:
    """Import an export uploaded through the web pages; returns the upload's status.

    do_import queues enrichment (enqueue_after_import) and identity resolution after a
    successful import, exactly as after `townsquare import`, so they are not queued again here.
    """
    from townsquare.connectors.uploads import run_upload

    return run_upload(upload_id)
