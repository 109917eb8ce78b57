"""Emitting events: `emit(event, payload)` where something happens, and the payloads of each
event (docs/webhooks.md documents them field by field).

`emit` costs nothing where it is called: after the transaction commits it asks, in one query,
which active subscriptions want the event; only then are payloads built, one delivery row
written per payload and subscription, and sending queued. A payload can be given as a
function that builds several (the care refresh files thousands of items at once), so
building is skipped when nobody subscribed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from townsquare.webhooks.models import PING, Delivery, Event, Subscription

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from townsquare.care.rules import Candidate
    from townsquare.community.models import Member
    from townsquare.listening.models import Alert

logger = logging.getLogger(__name__)

Payload = Mapping[str, Any]
Payloads = Payload | Callable[[], Iterable[Payload]]
EVENT_NAMES = frozenset([*Event.values, PING])


def emit(event: str, payload: Payloads) -> None:
    """Deliver `event` to every active subscription that wants it, once the current
    transaction commits (at once outside one). `payload` is the event's data, or a function
    returning the data of several events of this kind, called only if someone subscribed.
    Never raises into the caller once filed: a failure is logged, the caller's work stands."""
    if event not in EVENT_NAMES:
        raise ValueError(f"unknown webhook event {event!r} (docs/webhooks.md lists them)")
    transaction.on_commit(lambda: _file(event, payload), robust=True)


def _file(event: str, payload: Payloads) -> None:
    wanted = [
        s.pk for s in Subscription.objects.filter(is_active=True).only("id", "events")
        if event in s.events
    ]  # fmt: skip
    if not wanted:
        return
    payloads = [payload] if isinstance(payload, Mapping) else list(payload())
    file_deliveries(event, payloads, wanted)


def file_deliveries(
    event: str,
    payloads: Sequence[Payload],
    subscription_ids: Sequence[int],
    *,
    requested_by: User | None = None,
) -> list[Delivery]:
    """One pending delivery per payload and subscription, due now, and sending queued."""
    now = timezone.now()
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(
                subscription_id=subscription_id,
                event=event,
                payload=dict(payload),
                next_attempt_at=now,
                created_at=now,
                requested_by=requested_by,
            )
            for subscription_id in subscription_ids
            for payload in payloads
        ],
        batch_size=500,
    )
    if deliveries:
        transaction.on_commit(queue_sending)
    return deliveries


def queue_sending() -> None:
    """Queue the sending task. If the task backend is down, the scheduler's minute job sends
    the deliveries anyway: they are rows, due now."""
    from townsquare.webhooks.tasks import send_due_task

    try:
        send_due_task.enqueue()
    except Exception:  # any task backend error: the scheduler catches up
        logger.exception("could not queue sending webhooks; the scheduler will send them")


# The payloads --------------------------------------------------------------------------------


def absolute(path: str) -> str:
    return str(settings.SITE_URL).rstrip("/") + path


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _member(member_id: int, name: str) -> dict[str, Any]:
    return {"id": member_id, "name": name, "url": absolute(reverse("member", args=[member_id]))}


def care_item_payloads(item_ids: Iterable[int]) -> list[dict[str, Any]]:
    """One `care_item.created` payload per item: the member, the reasons filed, the item's
    page. A few queries whatever the number of items."""
    from townsquare.care.models import CareItem, CareReason

    ids = sorted(set(item_ids))
    items = {
        item.pk: item
        for item in CareItem.objects.filter(id__in=ids)
        .select_related("member")
        .only("id", "created_at", "priority", "member__id", "member__display_name")
    }
    reasons: dict[int, list[dict[str, Any]]] = {}
    rule_labels = dict(CareReason._meta.get_field("rule").flatchoices)
    rows = CareReason.objects.filter(item_id__in=ids).order_by("occurred_at", "id")
    for item_id, rule, detail, occurred_at in rows.values_list(
        "item_id", "rule", "detail", "occurred_at"
    ):
        reasons.setdefault(item_id, []).append(
            {
                "rule": rule,
                "label": str(rule_labels.get(rule, rule)),
                "detail": detail,
                "occurred_at": _when(occurred_at),
            }
        )
    return [
        {
            "item": {
                "id": item.pk,
                "url": absolute(reverse("care_item", args=[item.pk])),
                "created_at": _when(item.created_at),
            },
            "member": _member(item.member.pk, item.member.display_name),
            "reasons": reasons.get(item.pk, []),
        }
        for item_id in ids
        if (item := items.get(item_id)) is not None
    ]


def milestone_payloads(
    candidates: Iterable[Candidate], items: Mapping[int, int]
) -> list[dict[str, Any]]:
    """One `milestone` payload per milestone reason filed: the member, what they reached, and
    the care item it was filed on (`items`: member id → item id)."""
    from townsquare.care.models import Rule
    from townsquare.community.models import Member

    found = [c for c in candidates if c.rule == Rule.MILESTONE]
    if not found:
        return []
    names = dict(
        Member.objects.filter(id__in={c.member_id for c in found}).values_list("id", "display_name")
    )
    payloads = []
    for c in found:
        item_id = items.get(c.member_id)
        payloads.append(
            {
                "member": _member(c.member_id, names.get(c.member_id, "")),
                "milestone": {
                    "key": c.key,
                    "detail": c.detail,
                    "occurred_at": _when(c.occurred_at),
                },
                "item": {
                    "id": item_id,
                    "url": absolute(reverse("care_item", args=[item_id])) if item_id else None,
                },
            }
        )
    return payloads


def spike_payloads(alerts: Iterable[Alert]) -> list[dict[str, Any]]:
    """One `spike` payload per new alert: the channel, the day, the value and its norm."""
    return [
        {
            "alert": {
                "id": alert.pk,
                "metric": alert.metric,
                "channel": (
                    {"id": alert.channel_id, "name": alert.channel.name}
                    if alert.channel_id is not None and alert.channel is not None
                    else None
                ),
                "window_start": _when(alert.window_start),
                "window_end": _when(alert.window_end),
                "value": alert.value,
                "mean": alert.mean,
                "std": alert.std,
                "k": alert.k,
                "message": alert.message,
                "url": absolute(reverse("pulse_alerts")),
            }
        }
        for alert in alerts
    ]


def merge_payload(
    *,
    target: Member,
    others: Iterable[Member],
    actor: User | None,
    automatic: bool,
    merged_at: datetime,
) -> dict[str, Any]:
    """The `members.merged` payload: the member kept, those merged into it, and who merged."""
    return {
        "member": _member(target.pk, target.display_name),
        "merged": [{"id": m.pk, "name": m.display_name} for m in others],
        "merged_by": {"id": actor.pk, "username": actor.get_username()} if actor else None,
        "automatic": automatic,
        "merged_at": _when(merged_at),
    }


def ping(subscription: Subscription, user: User | None) -> dict[str, Any]:
    return {
        "message": "A test event from Townsquare: this webhook works.",
        "subscription": subscription.pk,
        "sent_by": user.get_username() if user is not None else None,
    }
