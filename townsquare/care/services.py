"""What people do with care items: assign, snooze, resolve with a touchpoint, dismiss with a
reason. Dismissals teach the queue (docs/care.md)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from townsquare.care.models import ACTIVE_STATUSES, CareItem, CareReason, RuleAdjustment, Status
from townsquare.care.queue import rerank
from townsquare.community.models import Touchpoint

# Each dismissal multiplies the factor of the item's rules (in their channels) by this; each
# resolution divides by RECOVERY; the factor stays within [FLOOR, 1].
DISMISSAL_FACTOR = 0.85
RECOVERY = 0.95
FLOOR = 0.3


def _active(item: CareItem) -> CareItem:
    locked = CareItem.objects.select_for_update().get(pk=item.pk)
    if locked.status not in ACTIVE_STATUSES:
        raise ValidationError(f"This item is already {locked.get_status_display().lower()}.")
    return locked


@transaction.atomic
def do_assign(*, item: CareItem, assignee: User | None, actor: User) -> CareItem:
    locked = _active(item)
    locked.assigned_to = assignee
    locked.updated_at = timezone.now()
    locked.save(update_fields=["assigned_to", "updated_at"])
    return locked


@transaction.atomic
def do_snooze(*, item: CareItem, until: datetime, actor: User) -> CareItem:
    now = timezone.now()
    if until <= now:
        raise ValidationError("Snooze until a moment in the future.")
    locked = _active(item)
    locked.status, locked.snoozed_until, locked.updated_at = Status.SNOOZED, until, now
    locked.save(update_fields=["status", "snoozed_until", "updated_at"])
    return locked


def _adjust(item: CareItem, *, dismissed: bool) -> None:
    pairs = set(
        CareReason.objects.filter(item=item, cleared_at__isnull=True).values_list(
            "rule", "channel_id"
        )
    )
    for rule, channel_id in pairs:
        adjustment, _ = RuleAdjustment.objects.get_or_create(rule=rule, channel_id=channel_id)
        if dismissed:
            RuleAdjustment.objects.filter(pk=adjustment.pk).update(
                factor=Greatest(F("factor") * DISMISSAL_FACTOR, FLOOR),
                dismissals=F("dismissals") + 1,
            )
        else:
            RuleAdjustment.objects.filter(pk=adjustment.pk).update(
                factor=Least(F("factor") / RECOVERY, 1.0), resolutions=F("resolutions") + 1
            )


@transaction.atomic
def do_resolve(
    *, item: CareItem, actor: User, what: str, outcome: str, channel: str = ""
) -> Touchpoint:
    """Close the item with the human contact that was made, logged as a touchpoint on the
    member's profile."""
    if not what.strip():
        raise ValidationError("Say what was done.")
    now = timezone.now()
    locked = _active(item)
    first = CareReason.objects.filter(item=locked).order_by("-score").first()
    touchpoint = Touchpoint.objects.create(
        member_id=locked.member_id,
        staff=actor,
        happened_at=now,
        channel=channel.strip()[:100],
        reason=what.strip(),
        outcome=outcome.strip(),
        interaction_id=first.interaction_id if first else None,
    )
    locked.status, locked.touchpoint, locked.closed_at, locked.closed_by = (
        Status.RESOLVED,
        touchpoint,
        now,
        actor,
    )
    locked.updated_at = now
    locked.save()
    _adjust(locked, dismissed=False)
    return touchpoint


@transaction.atomic
def do_dismiss(*, item: CareItem, actor: User, reason: str) -> CareItem:
    """Close the item without contact. The reason is required: it is what the team learns
    from, and the rules' weights for similar items go down."""
    if not reason.strip():
        raise ValidationError("Say why this item needs no touch.")
    now = timezone.now()
    locked = _active(item)
    locked.status, locked.dismiss_reason = Status.DISMISSED, reason.strip()
    locked.closed_at, locked.closed_by, locked.updated_at = now, actor, now
    locked.save()
    _adjust(locked, dismissed=True)
    rerank(now)
    return locked
