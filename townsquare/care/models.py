"""The care queue: one item per member who needs a human touch, gathering every reason why.

Rules (rules.py) find reasons; the queue (queue.py) files them on the member's open item and
ranks items by a priority score (docs/care.md). People assign, snooze, resolve or dismiss.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from townsquare.community.models import Channel, Conversation, Interaction, Member, Touchpoint


class Rule(models.TextChoices):
    UNANSWERED = "unanswered", "Unanswered question"
    BAD_DAY = "bad_day", "A bad day"
    LANGUAGE = "language", "Language barrier"
    NEWCOMER = "newcomer", "Newcomer to welcome"
    DRIFTING = "drifting", "Regular gone quiet"
    HELPER = "helper", "Helper to thank"
    MILESTONE = "milestone", "Milestone to celebrate"
    MODERATION = "moderation", "Moderation flag"


# Staff can change these on the settings page; the numbers are documented in docs/care.md.
DEFAULT_WEIGHTS = {
    Rule.UNANSWERED: 10.0,
    Rule.MODERATION: 9.0,
    Rule.BAD_DAY: 8.0,
    Rule.NEWCOMER: 7.0,
    Rule.LANGUAGE: 6.0,
    Rule.DRIFTING: 5.0,
    Rule.HELPER: 4.0,
    Rule.MILESTONE: 3.0,
}


class RuleSetting(models.Model):
    """A rule's weight as staff set it, and whether it runs at all."""

    rule = models.CharField(max_length=20, choices=Rule.choices, unique=True)
    weight = models.FloatField()
    enabled = models.BooleanField(default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)


class RuleAdjustment(models.Model):
    """What dismissals taught: a factor on a rule's weight in one channel (or, with no
    channel, for reasons that have none). Each dismissal lowers it, each resolution raises it
    back, within bounds (docs/care.md)."""

    rule = models.CharField(max_length=20, choices=Rule.choices)
    channel = models.ForeignKey(Channel, models.CASCADE, null=True, blank=True, related_name="+")
    factor = models.FloatField(default=1.0)
    dismissals = models.PositiveIntegerField(default=0)
    resolutions = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "channel"], name="care_adjustment_once"),
            models.UniqueConstraint(
                fields=["rule"], condition=Q(channel__isnull=True), name="care_adjustment_global"
            ),
        ]


class CareSettings(models.Model):
    """The queue's settings, one row: the default answer time and business hours."""

    default_sla_hours = models.PositiveIntegerField(default=24)
    # When on, waiting time counts only business hours in the community's time zone.
    business_hours_only = models.BooleanField(default=False)
    business_day_start = models.PositiveSmallIntegerField(default=9)
    business_day_end = models.PositiveSmallIntegerField(default=17)
    # Monday is 0, as in Python: "0,1,2,3,4" is Monday to Friday.
    business_weekdays = models.CharField(max_length=20, default="0,1,2,3,4")

    @classmethod
    def load(cls) -> CareSettings:
        """The settings row, or the defaults while nobody saved any (a read never writes)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    @property
    def weekdays(self) -> set[int]:
        return {int(d) for d in self.business_weekdays.split(",") if d.strip().isdigit()}


class ChannelPolicy(models.Model):
    """A channel's own answer time and main language, when they differ from the defaults."""

    channel = models.OneToOneField(Channel, models.CASCADE, related_name="care_policy")
    sla_hours = models.PositiveIntegerField(null=True, blank=True)
    main_language = models.CharField(max_length=8, blank=True)


class Status(models.TextChoices):
    OPEN = "open", "Open"
    SNOOZED = "snoozed", "Snoozed"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"
    # Every reason went away on its own (the question got an answer, say).
    EXPIRED = "expired", "No longer needed"


ACTIVE_STATUSES = (Status.OPEN, Status.SNOOZED)


class CareItem(models.Model):
    member = models.ForeignKey(Member, models.CASCADE, related_name="care_items")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    priority = models.FloatField(default=0.0)
    # Items with a moderation reason only are for moderators.
    for_moderators = models.BooleanField(default=False)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    touchpoint = models.ForeignKey(
        Touchpoint, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dismiss_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            # One item per member gathers their reasons.
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(status__in=["open", "snoozed"]),
                name="care_one_active_item",
            )
        ]
        indexes = [models.Index(fields=["status", "-priority"], name="care_status_priority")]

    def __str__(self) -> str:
        return f"care item #{self.pk} ({self.status})"


class CareReason(models.Model):
    item = models.ForeignKey(CareItem, models.CASCADE, related_name="reasons")
    rule = models.CharField(max_length=20, choices=Rule.choices)
    # What the reason is about, e.g. "unanswered:<conversation id>": a reason with the same key
    # is never filed twice for a member, so a resolved reason does not come back.
    key = models.CharField(max_length=120)
    detail = models.TextField()
    # 0..1: how strong this case is within its rule (docs/care.md).
    strength = models.FloatField()
    # weight × learned factor × strength when it was last ranked.
    score = models.FloatField(default=0.0)
    member = models.ForeignKey(Member, models.CASCADE, related_name="+")
    interaction = models.ForeignKey(
        Interaction, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    conversation = models.ForeignKey(
        Conversation, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.ForeignKey(Channel, models.SET_NULL, null=True, blank=True, related_name="+")
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField()
    # Set when the reason went away by itself (the question got an answer).
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "key"], name="care_reason_once"),
        ]
        # A refresh asks which of its keys were already filed, before knowing the items.
        indexes = [models.Index(fields=["key"], name="care_reason_key")]
        ordering = ["-score", "id"]
