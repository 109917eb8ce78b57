"""The pulse pages: what they show, their pinned SQL query counts, acknowledging alerts."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from townsquare.community.models import Channel
from townsquare.lib.testing import make_staff
from townsquare.listening.alerts import check_alerts
from townsquare.listening.models import Alert, AlertMetric
from townsquare.listening.tests.pulse_exports import import_and_enrich
from townsquare.listening.tests.test_alerts import busy_channels

pytestmark = pytest.mark.django_db

AssertNumQueries = Callable[[int], AbstractContextManager[Any]]
UNTIL = "2024-03-10"


@pytest.fixture
def busy(tmp_path: Path, settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    import_and_enrich(tmp_path / "export", busy_channels())
    check_alerts(date(2024, 3, 2), date(2024, 3, 11), email=False)


@pytest.fixture
def alice(db: None) -> User:
    return make_staff("alice", superuser=True)


@pytest.fixture
def alice_client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def get(client: Client, url: str, **params: Any) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_it_sends_anonymous_users_to_login(client: Client) -> None:
    for name in ("pulse", "pulse_alerts"):
        assert client.get(reverse(name)).status_code == 302
    response = client.post(reverse("pulse_acknowledge", args=[1]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.usefixtures("busy")
def test_it_shows_the_trends_topics_and_alerts(
    alice_client: Client, django_assert_num_queries: AssertNumQueries
) -> None:
    # counts (1), active members (1), channel names (1), topics (1), topics per channel (1),
    # latest alerts (1); plus the session and the user.
    with django_assert_num_queries(2 + 6):
        page = get(alice_client, reverse("pulse"), range="30d", until=UNTIL)

    assert 'aria-current="page">Pulse' in page
    for name in ("general", "support", "newbie"):
        assert f"#{name}</a>" in page
    # general's 12 neutral messages of 8 March in the daily table and as a bar of the chart.
    assert "<title>8 Mar 2024: 12</title>" in page
    assert "Volume in #general on 8 Mar 2024" in page
    assert "Unsupported language" in page
    assert '<svg class="spark spark-volume"' in page


@pytest.mark.usefixtures("busy")
def test_it_shows_one_channel_by_week(alice_client: Client) -> None:
    support = Channel.objects.get(name="support")

    page = get(
        alice_client, reverse("pulse"), range="90d", period="week", channel=support.pk, until=UNTIL
    )

    assert "#general</a>" not in page
    assert "week of 4 Mar 2024" in page
    assert "Negative sentiment in #support" in page
    assert "Volume in #general" not in page


def test_it_points_to_the_latest_activity_when_the_period_is_empty(
    alice_client: Client, busy: None
) -> None:
    page = get(alice_client, reverse("pulse"), range="7d")

    assert "Nothing happened in this period" in page
    assert "until=2024-03-10" in page


@pytest.mark.usefixtures("busy")
def test_it_escapes_imported_names_and_messages(alice_client: Client) -> None:
    Channel.objects.filter(name="general").update(name="<script>alert(1)</script>")
    Alert.objects.update(message="<img src=x onerror=alert(1)>")

    pulse_page = get(alice_client, reverse("pulse"), until=UNTIL)
    alerts_page = get(alice_client, reverse("pulse_alerts"))

    for page in (pulse_page, alerts_page):
        assert "<script>alert(1)" not in page
        assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pulse_page
    assert "&lt;img src=x onerror=alert(1)&gt;" in alerts_page


@pytest.mark.usefixtures("busy")
def test_it_lists_alerts_newest_first_and_filters_them(
    alice_client: Client, django_assert_num_queries: AssertNumQueries
) -> None:
    Alert.objects.bulk_create(
        Alert(
            channel=Channel.objects.get(name="newbie"),
            metric=AlertMetric.VOLUME,
            window_start=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=n),
            window_end=datetime(2024, 1, 2, tzinfo=UTC) + timedelta(days=n),
            value=10,
            mean=1,
            std=1,
            k=2,
            message=f"Old alert {n}",
        )
        for n in range(60)
    )
    # the channels with alerts (1), the count (1), the page (1)
    with django_assert_num_queries(2 + 3):
        page = get(alice_client, reverse("pulse_alerts"))

    assert page.index("Volume in #general on 8 Mar 2024") < page.index("Old alert 59")
    assert "Page 1 of 2" in page
    negative = get(alice_client, reverse("pulse_alerts"), metric="negative_share")
    assert "Negative sentiment in #support" in negative
    assert "Volume in" not in negative
    # The figures in the unit of their metric: messages a day, or a share in per cent.
    spike = Alert.objects.get(metric=AlertMetric.NEGATIVE_SHARE)
    assert (
        f"{round(spike.value * 100)} % of messages; norm {round(spike.mean * 100)} % ± "
        f"{round(spike.std * 100)} points (σ); k 2.0" in negative
    )
    assert "10 messages; norm 1.0 ± 1.0 (σ) a day; k 2.0" in page
    general = Channel.objects.get(name="general")
    only_general = get(alice_client, reverse("pulse_alerts"), channel=general.pk)
    assert "Volume in #general" in only_general
    assert "Old alert" not in only_general
    assert "Negative sentiment in #support" not in only_general


@pytest.mark.usefixtures("busy")
def test_it_acknowledges_an_alert_by_post_with_csrf(alice: User) -> None:
    alert = Alert.objects.get(channel__name="general", metric=AlertMetric.VOLUME)
    url = reverse("pulse_acknowledge", args=[alert.pk])
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403  # no token
    page = get(client, reverse("pulse_alerts"))
    token = client.cookies["csrftoken"].value
    assert f'action="{url}"' in page

    response = client.post(
        url, {"csrfmiddlewaretoken": token, "next": "https://evil.example/"}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("pulse_alerts")  # never off-site
    alert.refresh_from_db()
    assert alert.acknowledged_by == alice
    assert alert.acknowledged_at is not None
    assert "Acknowledged by alice" in response.content.decode()
