"""What staff do to webhooks. Views and commands call these; each records who did it."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from townsquare.webhooks import events
from townsquare.webhooks.http import check_target
from townsquare.webhooks.models import (
    PING,
    Delivery,
    DeliveryStatus,
    Event,
    Subscription,
    WebhookChange,
    new_secret,
)


def _record(
    subscription: Subscription, action: str, by: User | None, detail: str = ""
) -> WebhookChange:
    return WebhookChange.objects.create(
        subscription=subscription if subscription.pk else None,
        host=subscription.host,
        action=action,
        detail=detail,
        by=by,
        by_name=by.get_username() if by is not None else "",
    )


def _events(chosen: Iterable[str]) -> list[str]:
    known = set(Event.values)
    picked = {str(e) for e in chosen}
    unknown = picked - known
    if unknown:
        raise ValueError(f"Unknown event(s): {', '.join(sorted(unknown))}.")
    if not picked:
        raise ValueError("Choose at least one event.")
    # The order of the Event choices, whatever the order given.
    return [e for e in Event.values if e in picked]


@transaction.atomic
def do_subscribe(*, url: str, chosen_events: Iterable[str], by: User | None) -> Subscription:
    """A new active subscription with a fresh secret. Raises TargetError for a URL Townsquare
    will not deliver to, ValueError for unknown events."""
    url = url.strip()
    check_target(url)
    subscription = Subscription.objects.create(
        url=url, events=_events(chosen_events), created_by=by
    )
    _record(subscription, WebhookChange.Action.ADDED, by, ", ".join(subscription.events))
    return subscription


@transaction.atomic
def do_set_events(
    *, subscription: Subscription, chosen_events: Iterable[str], by: User | None
) -> None:
    subscription.events = _events(chosen_events)
    subscription.save(update_fields=["events"])
    _record(subscription, WebhookChange.Action.EVENTS, by, ", ".join(subscription.events))


@transaction.atomic
def do_set_active(*, subscription: Subscription, active: bool, by: User | None) -> None:
    """Pause or resume. A paused subscription gets no new deliveries and sends none of its
    pending ones until resumed."""
    subscription.is_active = active
    subscription.save(update_fields=["is_active"])
    action = WebhookChange.Action.RESUMED if active else WebhookChange.Action.PAUSED
    _record(subscription, action, by)
    if active:
        transaction.on_commit(events.queue_sending)


@transaction.atomic
def do_rotate_secret(*, subscription: Subscription, by: User | None) -> None:
    """A new secret; deliveries from now on are signed with it."""
    subscription.secret = new_secret()
    subscription.save(update_fields=["secret"])
    _record(subscription, WebhookChange.Action.ROTATED, by)


@transaction.atomic
def do_delete(*, subscription: Subscription, by: User | None) -> None:
    """Delete the subscription and its delivery log; the change record stays."""
    _record(subscription, WebhookChange.Action.DELETED, by)
    subscription.delete()  # the change records keep the host, their link goes


def do_send_test(*, subscription: Subscription, by: User | None) -> Delivery:
    """A `ping` delivery to this subscription, whatever events it chose, sent at once by
    the worker."""
    with transaction.atomic():
        (delivery,) = events.file_deliveries(
            PING, [events.ping(subscription, by)], [subscription.pk], requested_by=by
        )
        _record(subscription, WebhookChange.Action.TESTED, by, str(delivery.event_id))
    return delivery


@transaction.atomic
def do_retry(*, delivery: Delivery, by: User | None) -> None:
    """One more attempt at a failed delivery, now. If it fails again, it stays failed."""
    if delivery.status != DeliveryStatus.FAILED:
        raise ValueError("Only a failed delivery can be retried.")
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), requested_by=by
    )
    _record(delivery.subscription, WebhookChange.Action.RETRIED, by, str(delivery.event_id))
    transaction.on_commit(events.queue_sending)
