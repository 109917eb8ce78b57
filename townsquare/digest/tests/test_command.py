"""`townsquare digest`: build, print and mail a week's digest from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from townsquare.digest.models import Digest
from townsquare.digest.tests.conftest import WEEK, Community
from townsquare.lib.testing import make_staff

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("digest", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def alice(db: None) -> User:
    return make_staff("alice", superuser=True)


def test_it_builds_and_prints_the_week_of_any_of_its_days(two_weeks: Community) -> None:
    output = _run("--week", "2026-03-11", "--print")
    assert output.startswith("Built the digest of 9–15 March 2026 (week of 2026-03-09).\n")
    assert "- Messages: 7 / 4 / +75 %\n" in output
    assert "- Median time to first response: 1 h 30 min / 1 h 0 min / +50 %" in output
    assert "- bob: http://127.0.0.1:8000/care/" in output
    assert "- Volume in #help on 12 Mar 2026 is 26.0σ above its 7-day norm.\n" in output
    assert "- cleo, first seen Tue 10 Mar: http://127.0.0.1:8000/members/" in output
    assert Digest.objects.get().week_start == WEEK
    assert mail.outbox == []


def test_it_mails_a_week_once(two_weeks: Community, alice: User) -> None:
    assert _run("--week", "2026-03-09", "--send").endswith("Mailed to 1 person.\n")
    again = _run("--week", "2026-03-09", "--send")
    assert "was mailed on" in again and again.endswith("Not mailed again.\n")
    assert len(mail.outbox) == 1


def test_it_builds_the_last_full_week_by_default(db: None) -> None:
    assert _run().startswith("Built the digest of ")
    assert Digest.objects.count() == 1


@pytest.mark.parametrize(
    ("week", "message"),
    [("2026-13-01", "--week: expected a date as YYYY-MM-DD"), ("2999-01-01", "is not over yet")],
)
def test_it_refuses_a_bad_week(db: None, week: str, message: str) -> None:
    with pytest.raises(CommandError, match=message) as failure:
        _run("--week", week)
    assert failure.value.returncode == 2


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TOWNSQUARE_DIGEST_DAY", "funday", "TOWNSQUARE_DIGEST_DAY='funday': expected a weekday"),
        ("TOWNSQUARE_DIGEST_HOUR", "24", "TOWNSQUARE_DIGEST_HOUR=24: expected an hour from 0"),
    ],
)
def test_it_refuses_a_bad_send_time_at_start_up(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    env = {**os.environ, "TOWNSQUARE_DATA_DIR": str(tmp_path), variable: value}
    townsquare = Path(sys.executable).parent / "townsquare"
    result = subprocess.run([townsquare, "check"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert message in result.stderr
