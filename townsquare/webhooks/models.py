"""Outbound webhooks: outside URLs that receive events as signed JSON, and every delivery
with how its attempts went (docs/webhooks.md)."""

from __future__ import annotations

import secrets
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils import timezone


class Event(models.TextChoices):
    """The events a subscription can choose. Their payloads are documented in
    docs/webhooks.md; `ping` is not here: it is sent only on request, from the subscription's
    page."""

    CARE_ITEM_CREATED = "care_item.created", "A care item is filed"
    SPIKE = "spike", "A spike alert"
    MILESTONE = "milestone", "A milestone to celebrate"
    MEMBERS_MERGED = "members.merged", "Members are merged"


PING = "ping"


def new_secret() -> str:
    return secrets.token_hex(32)


class Subscription(models.Model):
    """An outside URL that receives the events it chose, signed with its own secret."""

    url = models.URLField(max_length=2000)
    # Values of Event. A JSON list rather than a table: a few subscriptions, read whole.
    events = models.JSONField(default=list)
    # Shown to managers on the subscription's page; never logged, never in __str__.
    secret = models.CharField(max_length=128, default=new_secret)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"webhook #{self.pk} to {self.host}"

    @property
    def host(self) -> str:
        """Where deliveries go, without the path, query or credentials a URL may carry."""
        parts = urlsplit(self.url)
        return parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else ""

    def event_labels(self) -> list[str]:
        labels = dict(Event.choices)
        return [str(labels.get(e, e)) for e in self.events]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One event for one subscription: the payload as it is sent on every attempt, and how
    the last attempt went. Pending deliveries whose next attempt is due are sent by the
    worker; a sender claims one by moving its next attempt forward (sending.py)."""

    subscription = models.ForeignKey(Subscription, models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    # The X-Townsquare-Delivery header: the same on every attempt, so receivers can dedupe.
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payload = models.JSONField()
    status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # Pending only: when the next attempt is due (or, while an attempt runs, when the claim on
    # it lapses).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    response_excerpt = models.TextField(blank=True)
    # Who sent a test event or asked for a retry; empty for events.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(
                fields=["subscription", "-created_at", "-id"], name="webhook_delivery_log"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id} ({self.status})"


class WebhookChange(models.Model):
    """Something staff did to a webhook: who, what, when. The host is copied, so the record
    outlives a deleted subscription (never the whole URL, which may carry a token)."""

    class Action(models.TextChoices):
        ADDED = "added", "Added"
        EVENTS = "events", "Events changed"
        PAUSED = "paused", "Paused"
        RESUMED = "resumed", "Resumed"
        ROTATED = "rotated", "Secret rotated"
        TESTED = "tested", "Test event sent"
        RETRIED = "retried", "Delivery retried"
        DELETED = "deleted", "Deleted"

    subscription = models.ForeignKey(
        Subscription, models.SET_NULL, null=True, blank=True, related_name="changes"
    )
    host = models.CharField(max_length=300)
    action = models.CharField(max_length=12, choices=Action.choices)
    detail = models.CharField(max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Empty: the change came from the command line.
    by_name = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.by_name or 'command line'}: {self.get_action_display()} {self.host}"
