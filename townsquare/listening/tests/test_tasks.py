"""Enrichment in the background: queued by imports and the enrich command, run by workers of
the database and RQ backends, and the enrich command itself."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.core.management import call_command

from townsquare.community.models import Interaction
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.lib.testing import import_export
from townsquare.listening import tasks
from townsquare.listening.models import Enrichment
from townsquare.listening.pipeline import TEXT_KINDS, current_versions, find_stale, version_key

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def small_export(root: Path, count: int = 20) -> Path:
    messages = [
        {
            "type": "message",
            "user": "U1",
            "text": f"Is chart number {i} readable? Thanks for any feedback",
            "ts": f"{1_700_000_000 + i * 60}.000100",
        }
        for i in range(count)
    ]
    return write_slack_export(root, {"general": messages})


def assert_all_enriched() -> None:
    key = version_key(current_versions())
    assert Interaction.objects.exists()
    worded = Interaction.objects.filter(kind__in=TEXT_KINDS)
    assert Enrichment.objects.filter(version_key=key).count() == worded.count()
    assert find_stale(10) == []


@pytest.mark.django_db
def test_it_enriches_after_an_import(shared_data: Path, settings: Any) -> None:
    settings.TASKS = IMMEDIATE

    run = import_export("slack", shared_data / "slack_houstondatavis")

    assert_all_enriched()
    assert "Enrichment" not in run.log


@pytest.mark.django_db
def test_it_logs_an_enrichment_it_could_not_queue_and_keeps_the_import(
    tmp_path: Path, settings: Any
) -> None:
    # Redis down: nothing listens on port 1.
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0"}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}

    run = import_export("slack", small_export(tmp_path))

    run.refresh_from_db()
    assert run.status == "succeeded"
    assert "Enrichment could not be queued (ConnectionError:" in run.log
    assert "run `townsquare enrich` to catch up" in run.log
    assert Interaction.objects.count() == 20
    assert not Enrichment.objects.exists()


@pytest.mark.django_db
def test_it_logs_an_enrichment_that_failed(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.TASKS = IMMEDIATE

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("model file missing")

    monkeypatch.setattr("townsquare.listening.pipeline.enrich_pending", broken)

    run = import_export("slack", small_export(tmp_path))

    run.refresh_from_db()
    assert run.status == "succeeded"
    assert "Enrichment failed (builtins.RuntimeError)" in run.log


@pytest.mark.django_db(transaction=True)
def test_it_runs_queued_enrichment_with_the_database_worker(tmp_path: Path, settings: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DATABASE
    import_export("slack", small_export(tmp_path))
    # An import queues its enrichment and the identity resolution of its source.
    queued = DBTaskResult.objects.filter(status="READY").values_list("task_path", flat=True)
    assert sorted(path.rsplit(".", 1)[1] for path in queued) == [
        "enrich_pending_task",
        "resolve_source_task",
    ]
    assert not Enrichment.objects.exists()

    call_command("worker", "--burst", verbosity=0)

    assert_all_enriched()
    result = DBTaskResult.objects.get(task_path__endswith="enrich_pending_task")
    assert result.status == "SUCCESSFUL"
    # Enrichment queues the spike check, which the same burst ran too.
    alerts = DBTaskResult.objects.get(task_path__endswith="check_alerts_task")
    assert alerts.status == "SUCCESSFUL"
    assert result.return_value is not None
    assert result.return_value["interactions"] == 20


@pytest.fixture
def rq_queue(settings: Any) -> Iterator[str]:
    """A queue of our own on the real Redis; its keys are removed afterwards."""
    name = f"townsquare-test-{uuid.uuid4().hex[:12]}"
    url = django_settings.REDIS_URL
    # django-rq reads results through its "default" connection: same Redis, no jobs put there.
    settings.RQ_QUEUES = {name: {"URL": url, "DEFAULT_TIMEOUT": 600}, "default": {"URL": url}}
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not running at {url} (TOWNSQUARE_REDIS_URL)")
    yield name
    # Only this queue's keys: its registries, its jobs and results, its workers.
    job_ids: set[bytes] = set()
    own = list(client.scan_iter(f"rq:*{name}*"))
    for key in own:
        if client.type(key) == b"zset":
            job_ids.update(
                str(member).encode() if isinstance(member, str) else member
                for member in client.zrange(key, 0, -1)
                if isinstance(member, (bytes, str))
            )
    for job_id in job_ids:
        client.delete(b"rq:job:" + job_id, b"rq:results:" + job_id)
    for key in client.scan_iter("rq:worker:*"):
        if client.type(key) == b"hash" and client.hget(key, "queues") == name.encode():
            client.delete(key)
            client.srem("rq:workers", key)
    if own:
        client.delete(*own)
    client.srem("rq:queues", f"rq:queue:{name}")
    client.close()


@pytest.mark.django_db(transaction=True)
def test_it_runs_queued_enrichment_with_an_rq_worker(
    rq_queue: str, tmp_path: Path, settings: Any
) -> None:
    settings.TASKS = DUMMY
    import_export("slack", small_export(tmp_path))
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [rq_queue]}}
    result = tasks.enrich_pending_task.using(queue_name=rq_queue).enqueue()
    assert not Enrichment.objects.exists()

    call_command("worker", "--burst", "--queue", rq_queue, verbosity=0)

    assert_all_enriched()
    result.refresh()
    assert result.status == "SUCCESSFUL"
    assert result.return_value is not None
    assert result.return_value["interactions"] == 20


@pytest.mark.django_db
def test_it_enriches_from_the_command_with_a_summary(tmp_path: Path, settings: Any) -> None:
    settings.TASKS = DUMMY
    import_export("slack", small_export(tmp_path, count=30))
    stdout, stderr = io.StringIO(), io.StringIO()

    call_command("enrich", "--limit", "12", stdout=stdout, stderr=stderr)

    assert "Enriched 12 interactions (12 texts analyzed)" in stdout.getvalue()
    assert "texts/s" in stdout.getvalue()
    assert Enrichment.objects.count() == 12
    call_command("enrich", stdout=stdout, stderr=stderr)
    assert_all_enriched()
    assert "Enriched 18 interactions" in stdout.getvalue()


@pytest.mark.django_db
def test_it_queues_enrichment_from_the_command(tmp_path: Path, settings: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DUMMY
    import_export("slack", small_export(tmp_path))
    settings.TASKS = DATABASE
    stdout = io.StringIO()

    call_command("enrich", "--background", "--rebuild", stdout=stdout)

    queued = DBTaskResult.objects.get()
    assert queued.args_kwargs["kwargs"] == {"rebuild": True, "limit": None}
    assert f"queued as task {queued.id} on the db backend" in stdout.getvalue()
    assert not Enrichment.objects.exists()
