"""The webhook pages: who may open them, and what managers do there, against a real
receiver."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from townsquare.lib.testing import make_staff
from townsquare.staff.models import Role
from townsquare.webhooks.models import Delivery, DeliveryStatus, Subscription, WebhookChange
from townsquare.webhooks.sending import MAX_ATTEMPTS, send_due
from townsquare.webhooks.tests.conftest import Receiver, subscribe

pytestmark = pytest.mark.django_db


def page_urls(subscription: Subscription, delivery: Delivery) -> list[str]:
    return [
        reverse("webhooks"),
        reverse("webhook", args=[subscription.pk]),
        reverse("webhook_deliveries", args=[subscription.pk]),
    ]


def post_urls(subscription: Subscription, delivery: Delivery) -> list[str]:
    return [
        reverse("webhooks"),
        *(
            reverse(name, args=[subscription.pk])
            for name in ("webhook_events", "webhook_active", "webhook_rotate", "webhook_test")
        ),
        reverse("webhook_retry", args=[delivery.pk]),
        reverse("webhook_delete", args=[subscription.pk]),
    ]


@pytest.fixture
def failed(receiver: Receiver) -> Delivery:
    subscription = subscribe(receiver.url)
    return Delivery.objects.create(
        subscription=subscription,
        event="spike",
        payload={"alert": {"id": 1}},
        status=DeliveryStatus.FAILED,
        attempts=MAX_ATTEMPTS,
        last_status_code=500,
        last_error="The receiver answered 500.",
    )


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MODERATOR])
def test_only_managers_and_admins_see_or_change_webhooks(
    client: Client, failed: Delivery, role: Role
) -> None:
    client.force_login(make_staff("vera", role=role))
    subscription = failed.subscription
    for url in page_urls(subscription, failed):
        response = client.get(url)
        assert response.status_code == 403, url
        page = response.content.decode()
        assert subscription.secret not in page and subscription.url not in page
        assert "see and change outbound webhooks" in page
    before = (
        list(Subscription.objects.values()),
        list(Delivery.objects.values()),
        WebhookChange.objects.count(),
    )
    for url in post_urls(subscription, failed):
        data = {"url": "http://127.0.0.1:9/x", "events": ["spike"], "active": "0"}
        assert client.post(url, data).status_code == 403, url
    after = (
        list(Subscription.objects.values()),
        list(Delivery.objects.values()),
        WebhookChange.objects.count(),
    )
    assert after == before


@pytest.mark.parametrize("superuser", [False, True], ids=["manager", "admin"])
def test_managers_and_admins_open_every_page(
    client: Client, failed: Delivery, superuser: bool
) -> None:
    client.force_login(make_staff("max", superuser=superuser))
    for url in page_urls(failed.subscription, failed):
        assert client.get(url).status_code == 200, url


def test_the_settings_hub_links_to_webhooks(bob_client: Client) -> None:
    page = bob_client.get(reverse("settings")).content.decode()
    assert f'href="{reverse("webhooks")}"' in page


def test_a_manager_adds_a_webhook_and_sees_its_secret(
    bob_client: Client, bob: User, receiver: Receiver
) -> None:
    response = bob_client.post(
        reverse("webhooks"), {"url": receiver.url, "events": ["care_item.created", "spike"]}
    )
    subscription = Subscription.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("webhook", args=[subscription.pk])
    assert subscription.url == receiver.url
    assert subscription.events == ["care_item.created", "spike"]
    assert subscription.is_active and subscription.created_by == bob
    assert len(subscription.secret) == 64
    change = WebhookChange.objects.get()
    assert (change.action, change.by, change.host) == ("added", bob, f"127.0.0.1:{receiver.port}")

    page = bob_client.get(response["Location"]).content.decode()
    assert f'value="{subscription.secret}"' in page
    assert "Webhook to 127.0.0.1" in page and "Give its secret to the receiver" in page


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://example.org/hook", "Enter an http:// or https:// URL"),
        ("javascript:alert(1)", "Enter an http:// or https:// URL"),
        ("example.org/hook", "Enter an http:// or https:// URL"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254 is a link-local address (169.254.169.254), where cloud machines "
            "keep their metadata and credentials: Townsquare does not send webhooks there.",
        ),
        ("http://[fe80::1]/hook", "is a link-local address"),
    ],
)
def test_it_refuses_a_url_it_will_not_deliver_to(bob_client: Client, url: str, error: str) -> None:
    response = bob_client.post(reverse("webhooks"), {"url": url, "events": ["spike"]})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Subscription.objects.exists()


def test_it_asks_for_at_least_one_event(bob_client: Client, receiver: Receiver) -> None:
    response = bob_client.post(reverse("webhooks"), {"url": receiver.url})
    assert response.status_code == 400
    assert "Choose at least one event." in response.content.decode()
    assert not Subscription.objects.exists()


def test_a_loopback_receiver_is_allowed(bob_client: Client, receiver: Receiver) -> None:
    url = f"http://localhost:{receiver.port}/hook"
    response = bob_client.post(reverse("webhooks"), {"url": url, "events": ["spike"]})
    assert response.status_code == 302
    assert Subscription.objects.get().url == url


def test_a_manager_pauses_and_resumes(bob_client: Client, bob: User, receiver: Receiver) -> None:
    subscription = subscribe(receiver.url)
    url = reverse("webhook_active", args=[subscription.pk])

    response = bob_client.post(url, {"active": "0"}, follow=True)
    subscription.refresh_from_db()
    assert not subscription.is_active
    assert "paused" in response.content.decode()
    bob_client.post(url, {"active": "1"})
    subscription.refresh_from_db()
    assert subscription.is_active
    changes = WebhookChange.objects.order_by("id")
    assert [(c.action, c.by) for c in changes] == [("paused", bob), ("resumed", bob)]


def test_a_manager_sends_a_test_event(bob_client: Client, bob: User, receiver: Receiver) -> None:
    subscription = subscribe(receiver.url, ["spike"])

    response = bob_client.post(reverse("webhook_test", args=[subscription.pk]), follow=True)
    assert "Test event queued" in response.content.decode()
    delivery = Delivery.objects.get()
    assert (delivery.event, delivery.requested_by) == ("ping", bob)
    assert send_due().delivered == 1
    (request,) = receiver.received
    assert request.headers["X-Townsquare-Event"] == "ping"
    assert json.loads(request.body)["data"]["sent_by"] == "bob"
    assert WebhookChange.objects.get().action == "tested"
    # The delivery shows on the page, delivered.
    page = bob_client.get(reverse("webhook", args=[subscription.pk])).content.decode()
    assert str(delivery.event_id) in page and "Delivered" in page


def test_a_paused_webhook_sends_no_test(bob_client: Client, receiver: Receiver) -> None:
    subscription = subscribe(receiver.url)
    Subscription.objects.update(is_active=False)
    response = bob_client.post(reverse("webhook_test", args=[subscription.pk]), follow=True)
    assert "resume it to send a test event" in response.content.decode()
    assert not Delivery.objects.exists()


def test_a_manager_retries_a_failed_delivery(
    bob_client: Client, bob: User, failed: Delivery, receiver: Receiver
) -> None:
    log = reverse("webhook_deliveries", args=[failed.subscription_id])
    page = bob_client.get(log).content.decode()
    assert reverse("webhook_retry", args=[failed.pk]) in page
    assert "The receiver answered 500." in page

    response = bob_client.post(reverse("webhook_retry", args=[failed.pk]))
    assert response.status_code == 302 and response["Location"] == log
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.PENDING and failed.requested_by == bob
    assert send_due().delivered == 1
    assert len(receiver.received) == 1
    assert WebhookChange.objects.get().action == "retried"
    # A delivered one cannot be retried.
    response = bob_client.post(reverse("webhook_retry", args=[failed.pk]), follow=True)
    assert "Only a failed delivery can be retried." in response.content.decode()
    assert len(receiver.received) == 1


def test_a_retry_that_fails_again_stays_failed(
    bob_client: Client, failed: Delivery, receiver: Receiver
) -> None:
    receiver.answer(502)
    bob_client.post(reverse("webhook_retry", args=[failed.pk]))
    assert send_due().failed == 1
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.FAILED and failed.attempts == MAX_ATTEMPTS + 1


def test_a_manager_rotates_the_secret(bob_client: Client, bob: User, receiver: Receiver) -> None:
    subscription = subscribe(receiver.url)
    old = subscription.secret
    bob_client.post(reverse("webhook_rotate", args=[subscription.pk]))
    subscription.refresh_from_db()
    assert subscription.secret != old and len(subscription.secret) == 64
    assert (WebhookChange.objects.get().action, WebhookChange.objects.get().by) == ("rotated", bob)


def test_a_manager_changes_the_events(bob_client: Client, receiver: Receiver) -> None:
    subscription = subscribe(receiver.url, ["spike"])
    url = reverse("webhook_events", args=[subscription.pk])
    bob_client.post(url, {"events": ["members.merged", "milestone"]})
    subscription.refresh_from_db()
    assert subscription.events == ["milestone", "members.merged"]
    response = bob_client.post(url, {"events": []})
    assert response.status_code == 400
    assert "Choose at least one event." in response.content.decode()
    response = bob_client.post(url, {"events": ["everything"]})
    assert response.status_code == 400
    subscription.refresh_from_db()
    assert subscription.events == ["milestone", "members.merged"]


def test_a_manager_deletes_a_webhook(bob_client: Client, bob: User, failed: Delivery) -> None:
    subscription = failed.subscription
    response = bob_client.post(reverse("webhook_delete", args=[subscription.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("webhooks")
    assert not Subscription.objects.exists() and not Delivery.objects.exists()
    change = WebhookChange.objects.get()
    assert (change.action, change.by_name, change.subscription) == ("deleted", "bob", None)
    assert change.host == subscription.host
    # The change stays listed, without the URL's path (which may hold a token).
    page = response.content.decode()
    assert "Deleted" in page and subscription.host in page and subscription.url not in page


def test_the_delivery_log_pages_newest_first_and_filters_by_status(
    bob_client: Client, receiver: Receiver
) -> None:
    subscription = subscribe(receiver.url)
    now = timezone.now()
    rows = [
        Delivery(
            subscription=subscription,
            event="spike",
            payload={"n": n},
            status=DeliveryStatus.FAILED if n % 10 == 0 else DeliveryStatus.DELIVERED,
            created_at=now - timedelta(minutes=n),
        )
        for n in range(30)
    ]
    Delivery.objects.bulk_create(rows)
    log = reverse("webhook_deliveries", args=[subscription.pk])

    first = bob_client.get(log).content.decode()
    assert "30 deliveries" in first
    assert first.index("&quot;n&quot;: 0") < first.index("&quot;n&quot;: 1\n")
    assert "&quot;n&quot;: 29" not in first  # on page 2
    assert "&quot;n&quot;: 29" in bob_client.get(log + "?page=2").content.decode()

    failed = bob_client.get(log + "?status=failed").content.decode()
    assert "3 deliveries" in failed
    # htmx asks for the results only.
    partial = bob_client.get(
        log + "?status=failed", headers={"HX-Request": "true", "HX-Target": "delivery-results"}
    ).content.decode()
    assert partial.startswith('<div id="delivery-results"') and "<html" not in partial


def test_the_list_shows_each_webhooks_health_in_a_fixed_number_of_queries(
    bob_client: Client, receiver: Receiver, django_assert_max_num_queries: Any
) -> None:
    def add(statuses: list[str]) -> None:
        subscription = subscribe(receiver.url)
        for status in statuses:
            Delivery.objects.create(
                subscription=subscription, event="spike", payload={}, status=status
            )

    add(["delivered", "delivered", "failed"])
    bob_client.get(reverse("webhooks"))  # the session and role, read once
    with django_assert_max_num_queries(8) as one:
        page = bob_client.get(reverse("webhooks")).content.decode()
    assert '<td class="num">2</td>' in page  # delivered in the last 7 days
    add(["pending"])
    add(["failed"])
    with django_assert_max_num_queries(len(one.captured_queries)):
        bob_client.get(reverse("webhooks"))


def test_no_secret_reaches_the_logs_through_the_pages(
    bob_client: Client, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bob_client.post(reverse("webhooks"), {"url": receiver.url, "events": ["spike"]})
    subscription = Subscription.objects.get()
    first_secret = subscription.secret
    bob_client.post(reverse("webhook_rotate", args=[subscription.pk]))
    bob_client.post(reverse("webhook_test", args=[subscription.pk]))
    send_due()
    subscription.refresh_from_db()

    assert len(receiver.received) == 1
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "webhook delivery" in logged
    assert first_secret not in logged and subscription.secret not in logged
