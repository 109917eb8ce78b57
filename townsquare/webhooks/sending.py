"""Sending deliveries: sign, POST, record the answer, schedule the retry.

A sender first claims a delivery with one conditional UPDATE (still pending, still due, its
subscription active), which moves its next attempt past the claim's lease and counts the
attempt. Two workers that pick the same delivery cannot both win; a worker that dies while
sending leaves the delivery due again once the lease has passed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F
from django.utils import timezone

from townsquare.webhooks import http
from townsquare.webhooks.models import Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

USER_AGENT = "Townsquare-Webhooks/1"
# The wait after each failed attempt; after the last one the delivery has failed. Six
# attempts over about 15 hours (docs/webhooks.md).
BACKOFF = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
]
MAX_ATTEMPTS = len(BACKOFF) + 1
# Longer than an attempt can take (connect + read timeouts): no one else sends it meanwhile.
CLAIM_LEASE = timedelta(minutes=2)
# One run of send_due sends at most this many; the next run takes the rest.
RUN_LIMIT = 1000


def body_of(delivery: Delivery) -> bytes:
    """The JSON body: the same bytes on every attempt."""
    envelope = {
        "id": str(delivery.event_id),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, cls=DjangoJSONEncoder, ensure_ascii=False).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Townsquare-Signature value: HMAC-SHA256 of "<timestamp>.<body>" with the
    subscription's secret, in hex."""
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def headers_for(delivery: Delivery, body: bytes, moment: datetime) -> dict[str, str]:
    timestamp = str(int(moment.timestamp()))
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Townsquare-Event": delivery.event,
        "X-Townsquare-Delivery": str(delivery.event_id),
        "X-Townsquare-Timestamp": timestamp,
        "X-Townsquare-Signature": signature(delivery.subscription.secret, timestamp, body),
    }


def claim(delivery_id: int, now: datetime) -> bool:
    """Take the delivery for one attempt; False when it is not due or someone else has it."""
    claimed = Delivery.objects.filter(
        pk=delivery_id,
        status=DeliveryStatus.PENDING,
        next_attempt_at__lte=now,
        subscription__is_active=True,
    ).update(next_attempt_at=now + CLAIM_LEASE, attempts=F("attempts") + 1)
    return claimed == 1


def next_attempt(attempts: int, after: datetime) -> datetime | None:
    """When to try again after `attempts` failed attempts; None once they are used up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return after + BACKOFF[max(attempts, 1) - 1]


def send_delivery(delivery_id: int) -> Delivery | None:
    """One attempt at one delivery, if this sender wins the claim; the delivery as it now
    stands, or None when it was not ours to send."""
    now = timezone.now()
    if not claim(delivery_id, now):
        return None
    delivery = Delivery.objects.select_related("subscription").get(pk=delivery_id)
    body = body_of(delivery)
    error = excerpt = ""
    status_code: int | None = None
    permanent = False
    try:
        answer = http.post(delivery.subscription.url, body, headers_for(delivery, body, now))
    except http.TransportError as e:
        error, permanent = str(e), e.permanent
    else:
        status_code, excerpt = answer.status, answer.excerpt
        if not 200 <= answer.status < 300:
            error = f"The receiver answered {answer.status}"
            error += (
                f", a redirect to {answer.location} (not followed)." if answer.location else "."
            )
    finished = timezone.now()
    delivery.last_attempt_at = finished
    delivery.last_status_code = status_code
    delivery.last_error = error
    delivery.response_excerpt = excerpt
    if not error:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.DELIVERED, None
        delivery.delivered_at = finished
    else:
        retry_at = None if permanent else next_attempt(delivery.attempts, finished)
        delivery.next_attempt_at = retry_at
        if retry_at is None:
            delivery.status = DeliveryStatus.FAILED
    delivery.save(
        update_fields=[
            "status",
            "next_attempt_at",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "response_excerpt",
            "delivered_at",
        ]
    )
    logger.info(
        "webhook delivery %s (%s to subscription %s), attempt %s: %s",
        delivery.event_id,
        delivery.event,
        delivery.subscription_id,
        delivery.attempts,
        error or f"delivered ({status_code})",
    )
    return delivery


@dataclass
class SendStats:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def due_ids(now: datetime, limit: int = 100) -> list[int]:
    rows = Delivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now, subscription__is_active=True
    ).order_by("next_attempt_at", "id")
    return list(rows.values_list("id", flat=True)[:limit])


def any_due() -> bool:
    return Delivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
    ).exists()


def prune_log(now: datetime | None = None) -> int:
    """Delete the finished deliveries (delivered or failed) older than
    TOWNSQUARE_WEBHOOK_LOG_DAYS; pending ones stay whatever their age. How many went."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TOWNSQUARE_WEBHOOK_LOG_DAYS)
    deleted, _ = (
        Delivery.objects.exclude(status=DeliveryStatus.PENDING)
        .filter(created_at__lt=cutoff)
        .delete()
    )
    return deleted


def send_due(limit: int = RUN_LIMIT) -> SendStats:
    """Send every pending delivery whose next attempt is due, oldest first."""
    stats = SendStats()
    tried = 0
    while tried < limit:
        ids = due_ids(timezone.now(), min(100, limit - tried))
        if not ids:
            break
        for delivery_id in ids:
            tried += 1
            delivery = send_delivery(delivery_id)
            if delivery is None:
                continue
            if delivery.status == DeliveryStatus.DELIVERED:
                stats.delivered += 1
            elif delivery.status == DeliveryStatus.FAILED:
                stats.failed += 1
            else:
                stats.retrying += 1
    return stats
