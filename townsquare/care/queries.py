"""Care items as other pages show them."""

from __future__ import annotations

from django.db.models import F, Prefetch

from townsquare.care.models import CareItem, CareReason
from townsquare.community.models import Member

HISTORY = 10


def care_history(member: Member) -> list[CareItem]:
    """The member's care items, the open one first, then the latest closed ones, each with all
    its reasons: two queries."""
    reasons = CareReason.objects.order_by("-score", "id")
    return list(
        CareItem.objects.filter(member=member)
        .select_related("closed_by", "touchpoint", "assigned_to")
        .prefetch_related(Prefetch("reasons", queryset=reasons, to_attr="all_reasons"))
        .order_by(F("closed_at").desc(nulls_first=True), "-created_at")[:HISTORY]
    )
