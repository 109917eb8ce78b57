"""`townsquare care refresh` and the scheduler that queues it."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from townsquare.care.models import CareItem
from townsquare.care.tests.conftest import Town
from townsquare.lib.schedule import Job, run_due


def test_care_refresh_prints_what_it_filed(town: Town) -> None:
    out = StringIO()
    call_command("care", "refresh", "--json", stdout=out)
    figures = json.loads(out.getvalue())
    # Run at the real date, months after the community's messages: only the quiet regulars
    # and the open questions' authors are still cases.
    assert figures["new_items"] == CareItem.objects.count()
    assert set(figures["by_rule"]) >= {"unanswered", "drifting", "newcomer"}
    again = StringIO()
    call_command("care", "refresh", stdout=again)
    assert again.getvalue().startswith("0 new reason(s) on 0 new item(s)")


def test_jobs_run_when_due_and_a_failure_is_retried() -> None:
    calls: list[str] = []

    def flaky() -> None:
        calls.append("flaky")
        if calls.count("flaky") == 1:
            raise ConnectionError("redis is down")

    jobs = [Job("every minute", 60, lambda: calls.append("minute")), Job("flaky", 3600, flaky)]
    assert run_due(jobs, 1000.0) == ["every minute"]  # the flaky one failed: not marked run
    assert run_due(jobs, 1030.0) == ["flaky"]  # retried at the next tick; the other not due
    assert run_due(jobs, 1061.0) == ["every minute"]
    assert calls == ["minute", "flaky", "flaky", "minute"]


@pytest.mark.django_db
def test_the_scheduler_queues_the_care_refresh_for_the_worker() -> None:
    out = StringIO()
    call_command("scheduler", "--once", stdout=out)
    assert "queued care queue refresh" in out.getvalue()
    paths = set(DBTaskResult.objects.values_list("task_path", flat=True))
    assert "townsquare.care.tasks.refresh_queue_task" in paths
