"""Sending deliveries to a real receiver on 127.0.0.1: the signature as documented, the
headers, retries with their waits, the final failure, and one sender per attempt."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from townsquare.webhooks.events import file_deliveries
from townsquare.webhooks.models import Delivery, DeliveryStatus, Subscription
from townsquare.webhooks.sending import MAX_ATTEMPTS, claim, due_ids, send_delivery, send_due
from townsquare.webhooks.tests.conftest import Receiver, subscribe

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"
PAYLOAD = {"member": {"id": 7, "name": "Ada Lovelace"}, "note": "naïve café ✓"}


def documented_verify() -> Any:
    """The receiver's check exactly as docs/webhooks.md prints it."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.S)
    (code,) = [block for block in blocks if "def verify(" in block]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102  # our own documentation, run to prove it right
    return namespace["verify"]


def file_one(subscription: Subscription, event: str = "spike") -> Delivery:
    (delivery,) = file_deliveries(event, [PAYLOAD], [subscription.pk])
    return delivery


def make_due(delivery: Delivery) -> None:
    """The wait is over: as if the clock had reached the next attempt."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_it_signs_each_delivery_as_the_docs_say(receiver: Receiver) -> None:
    subscription = subscribe(receiver.url)
    delivery = file_one(subscription)

    assert send_due().delivered == 1

    (request,) = receiver.received
    verify = documented_verify()
    assert verify(subscription.secret, request.headers, request.body)
    # Another secret, or a changed body, does not verify.
    assert not verify("another secret", request.headers, request.body)
    assert not verify(subscription.secret, request.headers, request.body + b" ")
    # An old timestamp does not either, even correctly signed.
    old = dict(request.headers, **{"X-Townsquare-Timestamp": "1000000000"})
    assert not verify(subscription.secret, old, request.body)

    assert request.path == "/hooks/townsquare"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "Townsquare-Webhooks/1"
    assert request.headers["X-Townsquare-Event"] == "spike"
    assert request.headers["X-Townsquare-Delivery"] == str(delivery.event_id)
    sent_at = int(request.headers["X-Townsquare-Timestamp"])
    assert abs(sent_at - timezone.now().timestamp()) < 60
    body = json.loads(request.body)
    assert body == {
        "id": str(delivery.event_id),
        "event": "spike",
        "created_at": delivery.created_at.isoformat(),
        "data": PAYLOAD,
    }
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (1, 200, "")
    assert delivery.response_excerpt == '{"ok": true}'
    assert delivery.next_attempt_at is None and delivery.delivered_at is not None


def test_it_retries_after_a_500_and_then_delivers(receiver: Receiver) -> None:
    delivery = file_one(subscribe(receiver.url))
    receiver.answer(500)

    before = timezone.now()
    assert send_due().as_dict() == {"delivered": 0, "retrying": 1, "failed": 0}
    after = timezone.now()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert (delivery.attempts, delivery.last_status_code) == (1, 500)
    assert delivery.last_error == "The receiver answered 500."
    assert delivery.response_excerpt == "receiver says no"
    assert delivery.next_attempt_at is not None
    assert before + timedelta(minutes=1) <= delivery.next_attempt_at <= after + timedelta(minutes=1)
    # Not due yet: nothing is sent.
    assert send_due().as_dict() == {"delivered": 0, "retrying": 0, "failed": 0}
    assert len(receiver.received) == 1

    make_due(delivery)
    assert send_due().delivered == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (2, 200, "")
    # Both attempts carried the same delivery id and body; each its own timestamp.
    first, second = receiver.received
    assert first.body == second.body
    assert first.headers["X-Townsquare-Delivery"] == second.headers["X-Townsquare-Delivery"]


def test_it_retries_after_a_network_error(receiver: Receiver, closed_port: int) -> None:
    delivery = file_one(subscribe(f"http://127.0.0.1:{closed_port}/hook"))

    before = timezone.now()
    assert send_due().retrying == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1 and delivery.last_status_code is None
    assert delivery.last_error == "Could not connect to 127.0.0.1: Connection refused."
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at >= before + timedelta(minutes=1)

    # The receiver comes up at that URL: the retry goes through.
    Subscription.objects.update(url=receiver.url)
    make_due(delivery)
    assert send_due().delivered == 1
    assert len(receiver.received) == 1


def test_it_fails_after_the_last_attempt_with_the_documented_waits(receiver: Receiver) -> None:
    delivery = file_one(subscribe(receiver.url))
    receiver.answer(*[503] * MAX_ATTEMPTS)

    waits = []
    for _ in range(MAX_ATTEMPTS):
        make_due(delivery)
        send_due()
        delivery.refresh_from_db()
        if delivery.next_attempt_at is not None:
            assert delivery.last_attempt_at is not None
            waits.append(
                round((delivery.next_attempt_at - delivery.last_attempt_at) / timedelta(minutes=1))
            )
    assert waits == [1, 5, 30, 2 * 60, 12 * 60]  # docs/webhooks.md, "Delivery and retries"
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == MAX_ATTEMPTS == 6
    assert delivery.next_attempt_at is None
    assert len(receiver.received) == MAX_ATTEMPTS
    # Failed for good: never sent again by itself.
    assert send_due().as_dict() == {"delivered": 0, "retrying": 0, "failed": 0}


def test_it_does_not_follow_redirects(receiver: Receiver) -> None:
    delivery = file_one(subscribe(receiver.url))
    receiver.answer(302, headers={"Location": "http://127.0.0.1:1/elsewhere"})

    send_due()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_status_code == 302
    assert "redirect to http://127.0.0.1:1/elsewhere (not followed)" in delivery.last_error
    assert len(receiver.received) == 1


def test_it_sends_a_delivery_once_when_two_senders_race(receiver: Receiver) -> None:
    delivery = file_one(subscribe(receiver.url))
    # Both workers looked for due deliveries before either sent anything.
    first_sees, second_sees = due_ids(timezone.now()), due_ids(timezone.now())
    assert first_sees == second_sees == [delivery.pk]

    results = [send_delivery(first_sees[0]), send_delivery(second_sees[0])]

    assert [r is not None for r in results] == [True, False]
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.status == DeliveryStatus.DELIVERED


def test_a_claim_is_won_once_and_lapses_if_the_sender_dies(receiver: Receiver) -> None:
    delivery = file_one(subscribe(receiver.url))
    now = timezone.now()
    assert claim(delivery.pk, now)
    assert not claim(delivery.pk, now)
    # The sender died mid-attempt: after the lease the delivery is due again.
    assert claim(delivery.pk, now + timedelta(minutes=3))
    delivery.refresh_from_db()
    assert delivery.attempts == 2


def test_it_holds_deliveries_of_a_paused_webhook(receiver: Receiver) -> None:
    subscription = subscribe(receiver.url)
    delivery = file_one(subscription)
    Subscription.objects.update(is_active=False)

    assert send_due().as_dict() == {"delivered": 0, "retrying": 0, "failed": 0}
    Subscription.objects.update(is_active=True)
    assert send_due().delivered == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED


def test_it_refuses_to_connect_to_a_link_local_address(receiver: Receiver) -> None:
    # Saved straight into the database, past the form's check: the sender checks again.
    delivery = file_one(subscribe("http://169.254.169.254/latest/meta-data/"))

    assert send_due().failed == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert delivery.last_error == (
        "The host now resolves to the link-local address 169.254.169.254: not sent."
    )


def test_the_command_sends_what_is_due(receiver: Receiver, capsys: Any) -> None:
    file_one(subscribe(receiver.url))
    call_command("webhooks", "send-due", "--json")
    assert json.loads(capsys.readouterr().out) == {"delivered": 1, "failed": 0, "retrying": 0}
    assert len(receiver.received) == 1


def test_the_secret_is_never_logged(
    receiver: Receiver, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good = subscribe(receiver.url)
    bad = subscribe(f"http://127.0.0.1:{closed_port}/")
    receiver.answer(500)
    file_one(good)
    file_one(bad)
    send_due()
    make_due(Delivery.objects.get(subscription=good))
    send_due()

    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "webhook delivery" in logged  # the sends were logged...
    for subscription in (good, bad):
        assert subscription.secret not in logged  # ...without any secret


def test_each_delivery_has_its_own_id(receiver: Receiver) -> None:
    subscription = subscribe(receiver.url)
    deliveries = file_deliveries("spike", [PAYLOAD, PAYLOAD], [subscription.pk])
    ids = {d.event_id for d in deliveries}
    assert len(ids) == 2 and all(isinstance(i, uuid.UUID) for i in ids)


def test_the_log_keeps_finished_deliveries_for_the_set_days(
    receiver: Receiver, settings: Any
) -> None:
    from townsquare.lib import schedule
    from townsquare.webhooks.sending import prune_log

    settings.TOWNSQUARE_WEBHOOK_LOG_DAYS = 10
    subscription = subscribe(receiver.url)
    now = timezone.now()

    def delivery(status: str, days_old: float) -> Delivery:
        return Delivery.objects.create(
            subscription=subscription,
            event="spike",
            payload={},
            status=status,
            created_at=now - timedelta(days=days_old),
        )

    old_delivered = delivery(DeliveryStatus.DELIVERED, 11)
    old_failed = delivery(DeliveryStatus.FAILED, 30)
    old_pending = delivery(DeliveryStatus.PENDING, 40)  # still to send: never pruned
    recent = delivery(DeliveryStatus.DELIVERED, 9)
    assert prune_log(now) == 2
    left = set(Delivery.objects.values_list("pk", flat=True))
    assert left == {old_pending.pk, recent.pk}
    assert not left & {old_delivered.pk, old_failed.pk}

    (job,) = [j for j in schedule.default_jobs() if j.name == "webhook log pruning"]
    assert job.every_seconds == 24 * 60 * 60
    assert job.enqueue() is not None  # a task for the worker (the database backend)
    delivery(DeliveryStatus.FAILED, 12)
    out = io.StringIO()
    call_command("webhooks", "prune", stdout=out)
    assert out.getvalue().startswith("1 finished deliveries deleted")
