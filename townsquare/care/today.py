"""What the Today page shows: the people to reach first, spikes, the questions waiting, the
milestones, and what changed since yesterday. Every figure is a range count on an index."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Prefetch, Q

from townsquare.care.models import CareItem, CareReason, CareSettings, Rule, Status
from townsquare.community.models import Interaction, Member
from townsquare.community.resolution import maybe_also


@dataclass
class Change:
    label: str
    today: int
    yesterday: int

    @property
    def delta(self) -> int:
        return self.today - self.yesterday


def top_items(limit: int = 8) -> list[CareItem]:
    standing = CareReason.objects.filter(cleared_at__isnull=True).order_by("-score", "id")
    return with_merge_hints(
        CareItem.objects.filter(status=Status.OPEN)
        .order_by("-priority", "id")
        .select_related("member", "assigned_to")
        .prefetch_related(Prefetch("reasons", queryset=standing, to_attr="standing"))[:limit]
    )


@dataclass
class MergeHint:
    """The other members an open merge suggestion says a member may also be, most certain
    first."""

    others: list[Member]

    @property
    def names(self) -> list[tuple[str, int]]:
        """Their names, one name once with how many bear it: a person's accounts on three
        platforms are three members of one name until merged."""
        return list(Counter(m.display_name or "(no name)" for m in self.others).items())


def merge_hints(member_ids: Iterable[int]) -> dict[int, MergeHint]:
    """The merge hints of these members that have one (one query)."""
    return {
        member_id: MergeHint([other for _, other in pairs])
        for member_id, pairs in maybe_also(member_ids).items()
    }


def with_merge_hints(items: Iterable[CareItem]) -> list[CareItem]:
    """The items, each with `merge_hint` (a MergeHint, or None), read in one query. Two
    items for one person under two names are one touch, and the other half's history is
    context for it."""
    listed = list(items)
    hints = merge_hints(item.member_id for item in listed)
    for item in listed:
        # Read by care/_item.html, like the prefetched `standing`.
        setattr(item, "merge_hint", hints.get(item.member_id))  # noqa: B010
    return listed


@dataclass
class Milestone:
    """A member's milestones to celebrate, one line however many (an anniversary on two
    platforms, a hundredth message the same week)."""

    member: Member
    item_id: int
    details: list[str]


def milestones(limit: int = 5) -> list[Milestone]:
    """The members with the newest open milestones, newest first."""
    reasons = (
        CareReason.objects.filter(
            rule=Rule.MILESTONE, cleared_at__isnull=True, item__status=Status.OPEN
        )
        .select_related("member")
        .order_by("-occurred_at", "id")
    )
    found: dict[int, Milestone] = {}
    # A member's milestones are a few at most: a few times the limit covers `limit` members.
    for reason in reasons[: limit * 4]:
        if reason.member_id in found:
            if reason.detail not in found[reason.member_id].details:
                found[reason.member_id].details.append(reason.detail)
        elif len(found) < limit:
            found[reason.member_id] = Milestone(reason.member, reason.item_id, [reason.detail])
    return list(found.values())


def unanswered(now: datetime) -> dict[str, Any]:
    """Conversations waiting for a reply from anyone but their author, and those of them past
    the default answer time."""
    from townsquare.inbox.models import ConversationState

    hours = CareSettings.load().default_sla_hours
    counts = ConversationState.objects.filter(awaiting_reply=True).aggregate(
        waiting=Count("pk"),
        overdue=Count("pk", filter=Q(opened_at__lte=now - timedelta(hours=hours))),
    )
    return {**counts, "hours": hours}


def spikes(now: datetime, limit: int = 5) -> list[Any]:
    from townsquare.listening.models import Alert

    return list(
        Alert.objects.filter(acknowledged_at__isnull=True, window_end__gte=now - timedelta(days=7))
        .select_related("channel")
        .order_by("-window_start", "-id")[:limit]
    )


def escalated_to_admins() -> int:
    """Flagged messages a moderator escalated, waiting for an admin's decision."""
    from townsquare.moderation.models import ModerationItem, ModerationStatus

    return ModerationItem.objects.filter(status=ModerationStatus.ESCALATED).count()


def changes(now: datetime) -> list[Change]:
    """The last 24 hours against the 24 before them: one query per table, on its time index."""
    day = timedelta(days=1)
    since = now - 2 * day

    def pair(rows: Any, field: str, label: str, **extra: Any) -> Change:
        inside = {f"{field}__gte": since, f"{field}__lt": now, **extra}
        counts = rows.filter(**inside).aggregate(
            today=Count("pk", filter=Q(**{f"{field}__gte": now - day})),
            yesterday=Count("pk", filter=Q(**{f"{field}__lt": now - day})),
        )
        return Change(label, counts["today"], counts["yesterday"])

    return [
        pair(Interaction.objects, "created_at", "messages"),
        pair(Member.objects, "first_seen_at", "new members", merged_into__isnull=True),
        pair(CareItem.objects, "created_at", "care items opened"),
        pair(CareItem.objects, "closed_at", "care items resolved", status=Status.RESOLVED),
    ]
