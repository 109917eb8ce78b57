"""Spike alerts: the band's edge cases, and alerts found, stored and mailed after real imports."""

from __future__ import annotations

import io
from datetime import UTC, date, timedelta
from pathlib import Path
from statistics import fmean, pstdev
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from townsquare.community.models import Channel
from townsquare.lib.testing import make_staff
from townsquare.listening import alerts, tasks
from townsquare.listening.alerts import MIN_DELTA, check_alerts, is_spike
from townsquare.listening.models import Alert, AlertMetric
from townsquare.listening.tests.pulse_exports import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    import_and_enrich,
    message,
    ts,
)

VOLUME_DELTA = MIN_DELTA[AlertMetric.VOLUME]
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


# The band --------------------------------------------------------------------------------------


def test_it_needs_seven_trailing_days() -> None:
    assert not is_spike(100, [1, 2, 1, 2, 1, 2], 2, VOLUME_DELTA)
    # A day without a value (a share on a quiet day) is a missing day too.
    assert not is_spike(0.9, [0.1, 0.1, None, 0.1, 0.1, 0.1, 0.1], 2, 0.1)
    assert is_spike(100, [1, 2, 1, 2, 1, 2, 1], 2, VOLUME_DELTA)


def test_it_is_not_a_spike_exactly_on_the_threshold() -> None:
    history = [14, 0, 22, 0, 4, 0, 2]
    assert fmean(history) + 2 * pstdev(history) == 22  # mean 6, sigma 8

    assert not is_spike(22, history, 2, VOLUME_DELTA)
    assert is_spike(23, history, 2, VOLUME_DELTA)
    # k is the setting's: a wider band lets the same day through.
    assert not is_spike(23, history, 3, VOLUME_DELTA)


def test_it_needs_a_minimum_rise_over_a_flat_history() -> None:
    flat = [3] * 7  # sigma = 0: any rise is "infinitely many sigmas"
    assert not is_spike(3, flat, 2, VOLUME_DELTA)
    assert not is_spike(3 + VOLUME_DELTA - 1, flat, 2, VOLUME_DELTA)
    assert is_spike(3 + VOLUME_DELTA, flat, 2, VOLUME_DELTA)


def test_it_reads_k_from_the_settings(settings: Any) -> None:
    assert alerts.spike_k() == 2.0
    settings.TOWNSQUARE_SPIKE_K = 3.5
    assert alerts.spike_k() == 3.5


# Alerts from imports ---------------------------------------------------------------------------


def day(n: int, start: date = date(2024, 3, 1)) -> str:
    return (start + timedelta(days=n)).isoformat()


def busy_channels(start: date = date(2024, 3, 1)) -> dict[str, list[dict[str, Any]]]:
    """general: 1-3 messages a day for a week, 12 on day 7 and 30 on day 8 (one spike over two
    days), then back to normal; support: 11 messages a day, one of them negative, then 6 of 12
    negative on day 7; newbie: born on day 4, 15 messages on day 7."""
    general = []
    for n, count in enumerate([1, 2, 3, 2, 1, 2, 3, 12, 30, 2]):
        general += [message(ts(day(n, start), 9, m), "U1", NEUTRAL) for m in range(count)]
    support = []
    for n in range(7):
        support += [message(ts(day(n, start), 10, m), "U2", POSITIVE) for m in range(10)]
        support.append(message(ts(day(n, start), 11), "U3", NEGATIVE))
    support += [message(ts(day(7, start), 10, m), "U2", POSITIVE) for m in range(6)]
    support += [message(ts(day(7, start), 11, m), "U3", NEGATIVE) for m in range(6)]
    newbie = [message(ts(day(n, start), 9), "U1", NEUTRAL) for n in range(4, 7)]
    newbie += [message(ts(day(7, start), 12, m), "U1", NEUTRAL) for m in range(15)]
    return {"general": general, "support": support, "newbie": newbie}


@pytest.fixture
def busy(tmp_path: Path, settings: Any, db: None) -> None:
    settings.TASKS = DUMMY
    import_and_enrich(tmp_path / "export", busy_channels())


def alerts_of(name: str, metric: AlertMetric) -> list[Alert]:
    return list(Alert.objects.filter(channel__name=name, metric=metric).order_by("window_start"))


@pytest.mark.usefixtures("busy")
def test_it_alerts_once_for_a_volume_spike() -> None:
    created = check_alerts(date(2024, 3, 2), date(2024, 3, 11), email=False)

    (spike,) = alerts_of("general", AlertMetric.VOLUME)
    # The first spike day only: the next day, higher still, is the same spike.
    assert spike.window_start.date() == date(2024, 3, 8)
    assert spike.window_end - spike.window_start == timedelta(days=1)
    history = [1, 2, 3, 2, 1, 2, 3]
    assert spike.value == 12
    assert spike.mean == pytest.approx(fmean(history))
    assert spike.std == pytest.approx(pstdev(history))
    assert spike.k == 2
    z = (12 - fmean(history)) / pstdev(history)
    assert spike.message == (
        f"Volume in #general on 8 Mar 2024 is {z:.1f}\u03c3 above its 7-day norm: "
        f"12 messages vs {fmean(history):.1f} a day usually."
    )
    assert spike in created
    # A channel without 7 days of history before its burst does not alert.
    assert not Alert.objects.filter(channel__name="newbie").exists()
    # Running the check again finds the same spikes and stores nothing new.
    assert check_alerts(date(2024, 3, 2), date(2024, 3, 11), email=False) == []
    assert Alert.objects.count() == len(created)


@pytest.mark.usefixtures("busy")
def test_it_alerts_on_a_rise_of_negative_sentiment() -> None:
    check_alerts(date(2024, 3, 8), date(2024, 3, 9), email=False)

    (spike,) = alerts_of("support", AlertMetric.NEGATIVE_SHARE)
    assert spike.value == pytest.approx(6 / 12)
    # Every trailing day had 1 negative message of 11: a flat history.
    assert spike.mean == pytest.approx(1 / 11)
    assert spike.std == pytest.approx(0)
    assert spike.message == (
        "Negative sentiment in #support on 8 Mar 2024 is above its 7-day norm, which was flat: "
        "50 % of messages vs 9 % usually."
    )
    # general's messages are neutral, and newbie has too few messages for a share.
    assert not alerts_of("general", AlertMetric.NEGATIVE_SHARE)


@pytest.mark.usefixtures("busy")
def test_it_judges_shares_only_on_days_with_enough_messages(settings: Any) -> None:
    settings.TOWNSQUARE_SPIKE_MIN_MESSAGES = 12  # support had 11 a day before its spike

    check_alerts(date(2024, 3, 8), date(2024, 3, 9), email=False)

    assert not alerts_of("support", AlertMetric.NEGATIVE_SHARE)


@pytest.mark.usefixtures("busy")
def test_it_emails_new_alerts_to_staff(settings: Any, mailoutbox: list[Any]) -> None:
    settings.TOWNSQUARE_ALERT_EMAILS = True
    make_staff("alice", superuser=True)
    # Not mailed: no staff flag, inactive, no address.
    User.objects.create_user("charlie", "charlie@example.org")
    User.objects.create_user("dora", "dora@example.org", is_staff=True, is_active=False)
    User.objects.create_user("erin", "", is_staff=True)

    created = check_alerts(date(2024, 3, 8), date(2024, 3, 9))

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["alice@example.org"]
    assert mail.subject == f"[Townsquare] {len(created)} new alerts"
    for alert in created:
        assert alert.message in mail.body
    assert "/pulse/alerts/" in mail.body
    # Nothing new, nothing sent.
    check_alerts(date(2024, 3, 8), date(2024, 3, 9))
    assert len(mailoutbox) == 1


@pytest.mark.usefixtures("busy")
def test_it_sends_no_email_unless_alert_emails_are_on(mailoutbox: list[Any]) -> None:
    make_staff("alice", superuser=True)

    assert check_alerts(date(2024, 3, 8), date(2024, 3, 9))

    assert mailoutbox == []


@pytest.mark.usefixtures("busy")
def test_it_checks_alerts_from_the_command() -> None:
    out = io.StringIO()
    call_command(
        "pulse", "--check-alerts", "--since", "2024-03-08", "--until", "2024-03-08", stdout=out
    )

    assert "Volume in #general on 8 Mar 2024" in out.getvalue()
    assert Alert.objects.filter(window_start__date=date(2024, 3, 8)).count() >= 2
    assert Channel.objects.filter(name="general").exists()


@pytest.mark.django_db
def test_it_checks_for_spikes_after_enrichment(tmp_path: Path, settings: Any) -> None:
    """The import queues enrichment, enrichment queues the check, which looks at the last days."""
    settings.TASKS = DUMMY
    today = timezone.now().astimezone(UTC).date()
    import_and_enrich(tmp_path / "export", busy_channels(start=today - timedelta(days=7)))
    settings.TASKS = IMMEDIATE

    tasks.enrich_pending_task.enqueue()

    (spike,) = alerts_of("general", AlertMetric.VOLUME)
    assert spike.window_start.date() == today
