"""Background tasks of the community: identity resolution after an import."""

from __future__ import annotations

import logging
from typing import Any

from django_tasks import TaskResultStatus, task

from townsquare.connectors.models import ImportRun

logger = logging.getLogger(__name__)


@task()
def resolve_source_task(source_id: int) -> dict[str, Any]:
    """Suggest merges for the members of a source just imported, and merge the certain ones."""
    from townsquare.community.models import Source
    from townsquare.community.resolution import resolve

    source = Source.objects.filter(id=source_id).first()
    if source is None:
        return {}
    result = resolve(source=source, auto=True)
    return {"suggestions": result.suggestions, "created": result.created, "merged": result.merged}


def enqueue_resolution(run: ImportRun) -> None:
    """Queue identity resolution after a successful import. Never raises: a failure is
    written to the run's log, and `townsquare resolve --auto` catches up."""
    if run.source_id is None:
        return
    try:
        result = resolve_source_task.enqueue(run.source_id)
    except Exception as e:  # any backend error: the import itself succeeded
        logger.exception("could not queue identity resolution after import #%s", run.pk)
        _log(run, f"Identity resolution could not be queued ({type(e).__name__}: {e}); ")
        return
    # The immediate backend has already run it, and keeps a failure in the result.
    if result.status == TaskResultStatus.FAILED:
        _log(run, "Identity resolution failed; ")


def _log(run: ImportRun, line: str) -> None:
    run.log += line + "run `townsquare resolve --auto` to catch up.\n"
    run.save(update_fields=["log"])
