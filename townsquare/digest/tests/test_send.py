"""Mailing the digest: to whom, once per week, and when the scheduler does it."""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from townsquare.digest.content import last_full_week
from townsquare.digest.models import Digest
from townsquare.digest.services import (
    WeekNotOver,
    do_build_digest,
    do_send_digest,
    do_set_digest_email,
    due_week,
    recipients,
    send_due_digest,
)
from townsquare.digest.tests.conftest import NOW, WEEK, Community
from townsquare.lib.schedule import default_jobs, run_due
from townsquare.lib.testing import make_staff

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def staff(db: None) -> dict[str, User]:
    """Alice (admin), Bob (manager) and Vera (viewer) get the digest; Oscar has no role, Ian
    is inactive and Nora has no address: they do not."""
    users = {
        "alice": make_staff("alice", superuser=True),
        "bob": make_staff("bob"),
        "vera": make_staff("vera", role="viewer"),
        "oscar": make_staff("oscar", staff=False),
        "ian": make_staff("ian", role="viewer"),
        "nora": make_staff("nora", role="viewer"),
    }
    User.objects.filter(username="ian").update(is_active=False)
    User.objects.filter(username="nora").update(email="")
    return users


def _sent_to() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def test_it_mails_every_active_staff_member_with_an_address(
    two_weeks: Community, staff: dict[str, User]
) -> None:
    assert [u.username for u in recipients()] == ["alice", "bob", "vera"]
    digest = do_build_digest(week_start=WEEK, now=NOW)
    assert do_send_digest(digest=digest, now=NOW) == 3
    assert _sent_to() == ["alice@example.org", "bob@example.org", "vera@example.org"]
    digest.refresh_from_db()
    assert (digest.sent_at, digest.recipient_count) == (NOW, 3)


def test_it_sends_text_and_html_from_the_templates(
    two_weeks: Community, staff: dict[str, User]
) -> None:
    do_send_digest(digest=do_build_digest(week_start=WEEK, now=NOW), now=NOW)
    message = mail.outbox[0]
    assert message.subject == "[Townsquare] Weekly digest, 9–15 March 2026"
    assert "- Messages: 7 / 4 / +75 %" in message.body
    assert "- bob: http://127.0.0.1:8000/care/" in message.body
    assert "http://127.0.0.1:8000/digest/2026-03-09/" in message.body
    html, kind = message.alternatives[0]  # type: ignore[attr-defined]
    assert kind == "text/html"
    assert "<td>Messages</td>" in html and "+75 %" in html
    assert ">cleo</a>, first seen Tue 10 Mar" in html


def test_it_never_mails_a_week_twice(two_weeks: Community, staff: dict[str, User]) -> None:
    digest = do_build_digest(week_start=WEEK, now=NOW)
    assert do_send_digest(digest=digest, now=NOW) == 3
    assert do_send_digest(digest=digest, now=NOW + timedelta(hours=1)) is None
    # Built again: the mailed digest stays as it was mailed.
    again = do_build_digest(week_start=WEEK, now=NOW + timedelta(days=1))
    assert again.pk == digest.pk and again.built_at == NOW
    assert len(mail.outbox) == 3
    assert Digest.objects.count() == 1


def test_it_refreshes_a_digest_until_it_is_mailed(
    two_weeks: Community, staff: dict[str, User]
) -> None:
    first = do_build_digest(week_start=WEEK, now=NOW)
    later = NOW + timedelta(hours=2)
    second = do_build_digest(week_start=WEEK, now=later)
    assert second.pk == first.pk and second.built_at == later


def test_it_respects_an_opt_out(two_weeks: Community, staff: dict[str, User]) -> None:
    do_set_digest_email(user=staff["bob"], receive=False)
    do_send_digest(digest=do_build_digest(week_start=WEEK, now=NOW), now=NOW)
    assert _sent_to() == ["alice@example.org", "vera@example.org"]
    do_set_digest_email(user=staff["bob"], receive=True)
    assert "bob" in [u.username for u in recipients()]


def test_it_refuses_a_week_that_is_not_over(db: None) -> None:
    with pytest.raises(WeekNotOver):
        do_build_digest(week_start=WEEK, now=datetime(2026, 3, 15, 23, 59, tzinfo=UTC))


def test_it_tries_again_when_the_mail_server_is_down(
    two_weeks: Community, staff: dict[str, User]
) -> None:
    with socket.socket() as probe:  # a port nobody listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = "django.core.mail.backends.smtp.EmailBackend"
    digest = do_build_digest(week_start=WEEK, now=NOW)
    with (
        override_settings(EMAIL_BACKEND=smtp, EMAIL_HOST="127.0.0.1", EMAIL_PORT=port),
        pytest.raises(OSError),
    ):
        do_send_digest(digest=digest, now=NOW)
    digest.refresh_from_db()
    assert digest.sent_at is None
    assert do_send_digest(digest=digest, now=NOW) == 3


# The scheduler ---------------------------------------------------------------------------------


def test_it_is_due_from_monday_eight_in_the_community_time_zone(
    two_weeks: Community, staff: dict[str, User]
) -> None:
    assert due_week(NOW - timedelta(minutes=1)) is None
    assert due_week(NOW) == WEEK
    assert send_due_digest(NOW - timedelta(minutes=1)).week is None
    assert mail.outbox == []
    outcome = send_due_digest(NOW + timedelta(minutes=30))
    assert (outcome.week, outcome.recipients) == (WEEK, 3)
    # The next hours, nothing more: the week was mailed.
    assert send_due_digest(NOW + timedelta(hours=1, minutes=30)).week is None
    assert len(mail.outbox) == 3


@override_settings(COMMUNITY_TIME_ZONE="Europe/Paris", TOWNSQUARE_DIGEST_DAY="tuesday")
def test_it_follows_the_configured_day_and_hour_in_local_time(db: None) -> None:
    # Tuesday 17 March 08:00 in Paris is 07:00 UTC (winter time).
    assert due_week(datetime(2026, 3, 17, 6, 59, tzinfo=UTC)) is None
    assert due_week(datetime(2026, 3, 17, 7, 0, tzinfo=UTC)) == date(2026, 3, 9)
    with override_settings(TOWNSQUARE_DIGEST_HOUR=18):
        assert due_week(datetime(2026, 3, 17, 16, 59, tzinfo=UTC)) is None
        assert due_week(datetime(2026, 3, 17, 17, 0, tzinfo=UTC)) == date(2026, 3, 9)


@override_settings(TASKS=IMMEDIATE, TOWNSQUARE_DIGEST_HOUR=0)
def test_the_scheduler_job_builds_and_mails_last_week(staff: dict[str, User]) -> None:
    # From Monday 00:00 on, last week's digest is due whatever the day the test runs.
    job = next(j for j in default_jobs() if j.name == "weekly digest")
    assert job.every_seconds == 3600
    assert run_due([job], 0.0) == ["weekly digest"]
    week = last_full_week(timezone.now())
    digest = Digest.objects.get()
    assert (digest.week_start, digest.recipient_count) == (week, 3)
    assert len(mail.outbox) == 3
    # An hour later the job runs again and mails nothing.
    assert run_due([job], 3600.0) == ["weekly digest"]
    assert len(mail.outbox) == 3
