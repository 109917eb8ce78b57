"""Each event comes from the real code path: a care refresh that files items and a milestone,
the spike check, a merge. Nothing is built or written when nobody subscribed."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone

from townsquare.care.models import CareItem, Rule
from townsquare.care.queue import refresh_queue
from townsquare.community.models import Member
from townsquare.community.services import do_merge_members
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.lib import schedule
from townsquare.lib.testing import import_export
from townsquare.listening.alerts import check_alerts
from townsquare.listening.models import Alert
from townsquare.listening.tests.pulse_exports import NEUTRAL, message, ts
from townsquare.webhooks.events import emit
from townsquare.webhooks.models import Delivery, DeliveryStatus, Subscription
from townsquare.webhooks.sending import send_due
from townsquare.webhooks.tests.conftest import Receiver, subscribe

pytestmark = pytest.mark.django_db

Commit = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
USERS = [
    {"id": "U1", "name": "ada", "profile": {"real_name": "Ada Lovelace"}},
    {"id": "U2", "name": "cleo", "profile": {"real_name": "Cléo Martin"}},
]


def slack(at: datetime, user: str, text: str) -> dict[str, Any]:
    return {"type": "message", "user": user, "text": text, "ts": f"{at.timestamp():.6f}"}


@pytest.fixture
def community(tmp_path: Path) -> None:
    """Ada joined a year ago this week and is still around (a milestone); Cléo wrote her
    first message yesterday (a newcomer)."""
    general = [
        slack(NOW - timedelta(days=367), "U1", "Hello everyone, glad to be here"),
        slack(NOW - timedelta(days=10), "U1", "The meeting notes are in the wiki"),
        slack(NOW - timedelta(days=1), "U2", "Hi all, I just joined this community"),
    ]
    with override_settings(TASKS=DUMMY_TASKS):
        import_export("slack", write_slack_export(tmp_path / "x", {"general": general}, USERS))


def payloads(event: str) -> list[dict[str, Any]]:
    return [d.payload for d in Delivery.objects.filter(event=event).order_by("id")]


@pytest.mark.usefixtures("community")
def test_a_care_refresh_emits_new_items_and_milestones(
    receiver: Receiver, django_capture_on_commit_callbacks: Commit
) -> None:
    subscribe(receiver.url)
    ada = Member.objects.get(display_name="Ada Lovelace")
    cleo = Member.objects.get(display_name="Cléo Martin")

    with django_capture_on_commit_callbacks(execute=True):
        refresh_queue(NOW)

    items = {i.member_id: i for i in CareItem.objects.all()}
    assert set(items) == {ada.pk, cleo.pk}
    created = payloads("care_item.created")
    assert [p["member"]["id"] for p in created] == sorted(
        [ada.pk, cleo.pk], key=lambda m: items[m].pk
    )
    cleo_item = next(p for p in created if p["member"]["id"] == cleo.pk)
    assert cleo_item["member"]["name"] == "Cléo Martin"
    assert cleo_item["member"]["url"] == f"http://127.0.0.1:8000/members/{cleo.pk}/"
    assert cleo_item["item"]["id"] == items[cleo.pk].pk
    assert cleo_item["item"]["url"] == f"http://127.0.0.1:8000/care/{items[cleo.pk].pk}/"
    assert [r["rule"] for r in cleo_item["reasons"]] == [Rule.NEWCOMER]
    assert cleo_item["reasons"][0]["detail"].startswith("New here: wrote their first message")

    (milestone,) = payloads("milestone")
    assert milestone["member"]["id"] == ada.pk
    assert milestone["milestone"]["detail"] == "1 year in the community this week."
    assert milestone["item"]["id"] == items[ada.pk].pk

    # They reach the receiver, as the payloads say.
    assert send_due().delivered == 3
    sent = [json.loads(r.body) for r in receiver.received]
    assert sorted(s["event"] for s in sent) == ["care_item.created"] * 2 + ["milestone"]
    assert {s["id"] for s in sent} == {str(d.event_id) for d in Delivery.objects.all()}

    # A refresh that files nothing new emits nothing.
    with django_capture_on_commit_callbacks(execute=True):
        refresh_queue(NOW + timedelta(minutes=10))
    assert Delivery.objects.count() == 3


def test_a_new_spike_alert_is_emitted(
    tmp_path: Path, receiver: Receiver, django_capture_on_commit_callbacks: Commit
) -> None:
    days = [date(2024, 3, 1) + timedelta(days=n) for n in range(8)]
    general = [
        message(ts(day.isoformat(), 9, m), "U1", NEUTRAL)
        for day, count in zip(days, [1, 2, 3, 2, 1, 2, 3, 12], strict=True)
        for m in range(count)
    ]
    with override_settings(TASKS=DUMMY_TASKS):
        import_export("slack", write_slack_export(tmp_path / "x", {"general": general}, USERS))
    subscribe(receiver.url, ["spike"])

    with django_capture_on_commit_callbacks(execute=True):
        created = check_alerts(date(2024, 3, 2), date(2024, 3, 9), email=False)

    (alert,) = created
    (payload,) = payloads("spike")
    assert payload["alert"]["id"] == alert.pk
    assert payload["alert"]["metric"] == "volume"
    assert payload["alert"]["channel"] == {"id": alert.channel_id, "name": "general"}
    assert payload["alert"]["window_start"] == "2024-03-08T00:00:00+00:00"
    assert payload["alert"]["value"] == 12
    assert payload["alert"]["message"] == alert.message
    assert payload["alert"]["url"] == "http://127.0.0.1:8000/pulse/alerts/"
    # The same check again stores no alert, and emits nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert check_alerts(date(2024, 3, 2), date(2024, 3, 9), email=False) == []
    assert Delivery.objects.count() == 1 and Alert.objects.count() == 1


def test_a_merge_is_emitted_with_both_members_and_who_merged(
    bob: User, receiver: Receiver, django_capture_on_commit_callbacks: Commit
) -> None:
    subscribe(receiver.url, ["members.merged"])
    kept = Member.objects.create(display_name="Ada Lovelace")
    other = Member.objects.create(display_name="ada (GitHub)")

    with django_capture_on_commit_callbacks(execute=True):
        do_merge_members(target=kept, others=[other], actor=bob, reason="same person")

    (payload,) = payloads("members.merged")
    assert payload["member"]["id"] == kept.pk and payload["member"]["name"] == "Ada Lovelace"
    assert payload["merged"] == [{"id": other.pk, "name": "ada (GitHub)"}]
    assert payload["merged_by"] == {"id": bob.pk, "username": "bob"}
    assert payload["automatic"] is False
    assert datetime.fromisoformat(payload["merged_at"]) <= timezone.now()


def test_nothing_is_built_or_written_without_a_subscription(
    django_capture_on_commit_callbacks: Commit, django_assert_num_queries: Any
) -> None:
    built: list[str] = []

    def build() -> list[dict[str, Any]]:
        built.append("built")
        return [{"x": 1}]

    with django_assert_num_queries(1), django_capture_on_commit_callbacks(execute=True):
        emit("care_item.created", build)
    assert built == [] and not Delivery.objects.exists()

    # Nor for a paused subscription, or one that chose other events.
    subscribe("http://127.0.0.1:9/a", ["spike"])
    Subscription.objects.filter(pk=subscribe("http://127.0.0.1:9/b").pk).update(is_active=False)
    with django_assert_num_queries(1), django_capture_on_commit_callbacks(execute=True):
        emit("care_item.created", build)
    assert built == [] and not Delivery.objects.exists()


@pytest.mark.usefixtures("community")
def test_a_refresh_without_subscriptions_writes_no_delivery(
    django_capture_on_commit_callbacks: Commit,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        stats = refresh_queue(NOW)
    assert stats.new_items == 2
    assert not Delivery.objects.exists()


def test_nothing_is_emitted_when_the_transaction_rolls_back(
    receiver: Receiver, django_capture_on_commit_callbacks: Commit
) -> None:
    from django.db import transaction

    subscribe(receiver.url)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                emit("spike", {"alert": {"id": 1}})
                raise RuntimeError("the caller's work failed")
        except RuntimeError:
            pass
    assert callbacks == [] and not Delivery.objects.exists()


def test_an_unknown_event_name_is_a_mistake() -> None:
    with pytest.raises(ValueError) as raised:
        emit("care_item.filed", {})
    assert str(raised.value).startswith("unknown webhook event 'care_item.filed'")


def test_the_worker_sends_what_an_event_filed(
    receiver: Receiver, settings: Any, django_capture_on_commit_callbacks: Commit
) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    subscribe(receiver.url, ["spike"])
    with django_capture_on_commit_callbacks(execute=True):
        emit("spike", {"alert": {"id": 1}})
    (request,) = receiver.received
    assert json.loads(request.body)["data"] == {"alert": {"id": 1}}
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_the_scheduler_queues_sending_only_when_a_delivery_is_due(receiver: Receiver) -> None:
    (job,) = [j for j in schedule.default_jobs() if j.name == "webhook deliveries"]
    assert job.every_seconds == 60
    assert job.enqueue() is None  # nothing due: no task

    subscription = subscribe(receiver.url)
    Delivery.objects.create(
        subscription=subscription, event="spike", payload={}, next_attempt_at=timezone.now()
    )
    result = job.enqueue()
    assert result is not None  # a task for the worker (the database backend)
    assert send_due().delivered == 1
    assert job.enqueue() is None
