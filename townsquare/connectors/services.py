"""Running an import: the run row, the writer, and what happens when things go wrong."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path

import psutil
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from townsquare.community.models import Source
from townsquare.community.tasks import enqueue_resolution
from townsquare.connectors.base import Importer, ImportFormatError
from townsquare.connectors.models import ImportRun, RunStatus
from townsquare.connectors.registry import get_importer_class
from townsquare.connectors.writer import Writer
from townsquare.listening.tasks import enqueue_after_import

# A run whose heartbeat is this old is taken as dead even if we cannot check its process.
STALE_AFTER = timedelta(minutes=15)


class ImportConflict(Exception):
    """Another import into the same source is still running."""


def _is_alive(run: ImportRun) -> bool:
    if run.hostname == socket.gethostname() and run.pid:
        if run.pid == os.getpid():
            return True
        try:
            return psutil.Process(run.pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
    return timezone.now() - run.heartbeat_at < STALE_AFTER


def mark_interrupted_runs() -> int:
    """Mark runs whose process died mid-way (killed, crashed, machine restarted)."""
    count = 0
    for run in ImportRun.objects.filter(status=RunStatus.RUNNING):
        if not _is_alive(run):
            run.status = RunStatus.INTERRUPTED
            run.error = (
                run.error or "The import stopped before it finished; run it again to complete it."
            )
            run.finished_at = run.heartbeat_at
            run.save(update_fields=["status", "error", "finished_at"])
            count += 1
    return count


def get_or_create_source(*, name: str, platform: str) -> Source:
    source, _ = Source.objects.get_or_create(name=name, defaults={"platform": platform})
    if source.platform != platform:
        raise ImportFormatError(
            name, None, f"source {name!r} holds {source.platform} data, not {platform}"
        )
    return source


def do_import(
    *,
    format: str,
    path: Path,
    source_name: str | None = None,
    options: Mapping[str, str] | None = None,
    on_start: Callable[[Importer], None] | None = None,
) -> ImportRun:
    """Import one export into a source, as a run. Raises ImportFormatError for an unreadable
    export (the run is kept, marked failed, with the message)."""
    importer = get_importer_class(format)(path, options)
    source = get_or_create_source(
        name=source_name or importer.default_source_name(), platform=importer.platform
    )
    mark_interrupted_runs()
    with transaction.atomic():
        busy = ImportRun.objects.select_for_update().filter(source=source, status=RunStatus.RUNNING)
        if busy.exists():
            raise ImportConflict(
                f"import #{busy[0].pk} into {source.name!r} is still running; wait for it to end"
            )
        run = ImportRun.objects.create(
            source=source,
            format=format,
            path=str(path.resolve()),
            hostname=socket.gethostname(),
            pid=os.getpid(),
        )
    if on_start:
        on_start(importer)
    writer = Writer(run=run, source=source, batch_size=settings.IMPORT_BATCH_SIZE)
    try:
        for record in importer.records():
            writer.add(record)
        writer.finish()
    except ImportFormatError as e:
        _end(run, RunStatus.FAILED, error=str(e))
        raise
    except BaseException as e:  # KeyboardInterrupt and crashes alike must not leave "running"
        status = RunStatus.INTERRUPTED if isinstance(e, KeyboardInterrupt) else RunStatus.FAILED
        _end(run, status, error=f"{type(e).__name__}: {e}")
        raise
    _end(run, RunStatus.SUCCEEDED)
    enqueue_after_import(run)  # never raises: a failure to queue is written to the run's log
    enqueue_resolution(run)  # suggests merges for the source's members; never raises
    return run


def _end(run: ImportRun, status: RunStatus, *, error: str = "") -> None:
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    run.heartbeat_at = run.finished_at
    c = run.counts
    run.log += (
        f"{status.label} after {run.records_seen} records: "
        f"{sum(c.get('created', {}).values())} created, "
        f"{sum(c.get('updated', {}).values())} updated, "
        f"{sum(c.get('unchanged', {}).values())} unchanged, "
        f"{run.rejected_count} rejected.\n"
    )
    run.save(update_fields=["status", "error", "finished_at", "heartbeat_at", "log"])
