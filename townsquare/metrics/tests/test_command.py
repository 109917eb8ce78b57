"""`townsquare metrics`: JSON and tables, and bad input refused with exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from townsquare.community.models import InteractionKind
from townsquare.inbox.rollup import refresh_states
from townsquare.metrics import definitions as m
from townsquare.metrics.tests.conftest import START, Community


def run(*args: str) -> str:
    out = StringIO()
    call_command("metrics", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def talk(community: Community) -> Community:
    ann, ben = community.member("Ann"), community.member("Ben")
    conversation = community.conversation()
    community.say(conversation, ann)
    community.say(conversation, ben, 30, kind=InteractionKind.REPLY)
    community.act(ann, START + timedelta(days=1))
    refresh_states()
    return community


def test_it_prints_json(talk: Community) -> None:
    data = json.loads(run("ttfr", "--json", "--channel", "#help"))
    assert data["metric"] == "ttfr"
    assert data["rows"][0]["median_seconds"] == 1800
    data = json.loads(run("new-members", "--json", "--source", "workspace"))
    assert data == {"metric": "new-members", "per_month": {"2026-03-01": 2}}
    data = json.loads(run("active-members", "--json", "--until", "2026-03-03"))
    assert (data["dau"], data["wau"], data["mau"], data["dau_mau"]) == (1, 2, 2, 50.0)


def test_it_takes_until_as_the_last_day_included(talk: Community) -> None:
    data = json.loads(
        run("new-members", "--json", "--since", "2026-03-02", "--until", "2026-03-02")
    )
    assert data["per_month"] == {"2026-03-01": 2}


@pytest.mark.parametrize("name", m.METRICS)
def test_it_prints_every_metric_as_a_table_and_as_json(talk: Community, name: str) -> None:
    assert run(name, "--until", "2026-03-31").strip()
    assert json.loads(run(name, "--json", "--until", "2026-03-31"))["metric"] == name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["churn"], "NAME: expected one of ttfr"),
        (["ttfr", "--since", "2026-13-01"], "--since: expected a date as YYYY-MM-DD"),
        (["ttfr", "--until", "yesterday"], "--until: expected a date"),
        (["ttfr", "--since", "2026-03-02", "--until", "2026-03-01"], "--since: expected a day"),
        (["ttfr", "--period", "year"], "--period: expected one of day, week, month"),
        (["unanswered", "--hours", "soon"], "--hours: expected a whole number"),
        (["inactive-members", "--days", "-1"], "--days: expected a number from 0 on"),
        (["onion", "--channel", "nowhere"], "--channel: no channel is named 'nowhere'"),
        (["onion", "--source", "nowhere"], "--source: no source is named 'nowhere'"),
    ],
)
def test_it_refuses_bad_input(community: Community, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message) as error:
        run(*args)
    assert error.value.returncode == 2


def test_the_cli_exits_with_status_2_and_no_traceback(tmp_path: Path) -> None:
    env: dict[str, Any] = {**os.environ, "TOWNSQUARE_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    townsquare = Path(sys.executable).parent / "townsquare"
    result = subprocess.run(
        [townsquare, "metrics", "churn"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "NAME: expected one of" in result.stderr
    assert "Traceback" not in result.stderr
