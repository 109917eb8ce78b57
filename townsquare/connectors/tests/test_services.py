from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from townsquare.community.models import Source
from townsquare.connectors.base import ImportFormatError
from townsquare.connectors.models import ImportRun, RunStatus
from townsquare.connectors.registry import UnknownFormat
from townsquare.connectors.services import ImportConflict, mark_interrupted_runs
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.lib.testing import import_export


def small_export(tmp_path: Path) -> Path:
    return write_slack_export(
        tmp_path / "export",
        {"general": [{"type": "message", "user": "U1", "text": "hi", "ts": "1700000000.000100"}]},
    )


@pytest.mark.django_db
def test_it_marks_a_run_failed_with_the_error(tmp_path: Path) -> None:
    root = small_export(tmp_path)
    (root / "users.json").write_text("{not json")
    with pytest.raises(ImportFormatError):
        import_export("slack", root)
    run = ImportRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert "users.json:line 1 column 2: expected JSON" in run.error
    assert run.finished_at is not None


@pytest.mark.django_db
def test_it_refuses_to_mix_platforms_in_one_source(tmp_path: Path) -> None:
    Source.objects.create(name="Forum", platform="stackexchange")
    with pytest.raises(ImportFormatError, match="holds stackexchange data, not slack"):
        import_export("slack", small_export(tmp_path), source="Forum")


@pytest.mark.django_db
def test_it_refuses_a_second_import_into_a_busy_source(tmp_path: Path) -> None:
    source = Source.objects.create(name="Busy", platform="slack")
    ImportRun.objects.create(
        source=source, format="slack", path="x", hostname=os.uname().nodename, pid=os.getpid()
    )
    with pytest.raises(ImportConflict, match="still running"):
        import_export("slack", small_export(tmp_path), source="Busy")


@pytest.mark.django_db
def test_it_marks_runs_of_dead_processes_interrupted() -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    run = ImportRun.objects.create(
        format="slack", path="x", hostname=os.uname().nodename, pid=int(dead.stdout)
    )
    silent = ImportRun.objects.create(
        format="slack",
        path="y",
        hostname="elsewhere",
        pid=1,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    alive = ImportRun.objects.create(format="slack", path="z", hostname="elsewhere", pid=1)
    assert mark_interrupted_runs() == 2
    for r in (run, silent, alive):
        r.refresh_from_db()
    assert run.status == silent.status == RunStatus.INTERRUPTED
    assert "run it again" in run.error
    assert alive.status == RunStatus.RUNNING


@pytest.mark.django_db
def test_it_rejects_unknown_importer_options(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="unknown option colour"):
        import_export("slack", small_export(tmp_path), options={"colour": "red"})
    with pytest.raises(UnknownFormat, match="expected one of: slack"):
        import_export("myspace", tmp_path)


@pytest.mark.django_db
def test_the_import_command_reports_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command(
        "import", "slack", str(small_export(tmp_path)), "--source", "Team", "--no-progress"
    )
    out = capsys.readouterr().out
    assert "into Team" in out
    # A user, a channel, a message and the conversation it starts.
    assert "4 records read, 4 created" in out
    call_command("runs")
    assert "slack into Team succeeded" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_import_command_turns_bad_input_into_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as e:
        call_command("import", "slack", str(tmp_path / "missing"))
    assert e.value.returncode == 2
    assert "missing: no such file or folder" in str(e.value)


def test_the_cli_exits_non_zero_without_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "TOWNSQUARE_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    townsquare = Path(sys.executable).parent / "townsquare"
    subprocess.run([townsquare, "migrate", "-v0"], env=env, check=True)
    export = small_export(tmp_path)
    (export / "channels.json").write_text(json.dumps({"not": "a list"}))
    result = subprocess.run(
        [townsquare, "import", "slack", str(export)], env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "channels.json: expected a JSON array" in result.stderr
    assert "Traceback" not in result.stderr
