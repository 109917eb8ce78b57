"""Filing reasons on members' items and ranking the queue (docs/care.md).

priority(item) = Σ over its standing reasons of weight(rule) × factor(rule, channel) × strength

weight: staff-tuned per rule (RuleSetting, DEFAULT_WEIGHTS); factor: learned from dismissals
(RuleAdjustment, 1.0 until a dismissal); strength: 0..1 from the rule (rules.py).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Model, Q
from django.utils import timezone

from townsquare.care.models import (
    ACTIVE_STATUSES,
    DEFAULT_WEIGHTS,
    CareItem,
    CareReason,
    Rule,
    RuleAdjustment,
    RuleSetting,
    Status,
)
from townsquare.care.rules import RULES, Candidate, Context
from townsquare.community.models import Member
from townsquare.webhooks.events import care_item_payloads, emit, milestone_payloads

CHUNK = 500
# The rules new messages can file on: what follows time alone (a regular's silence, an
# anniversary) waits for the scheduled refresh (every 10 minutes), which runs them all. A
# milestone source that counts messages would belong here.
AFTER_NEW_MESSAGES: frozenset[str] = frozenset(RULES) - {Rule.DRIFTING, Rule.MILESTONE}
T = TypeVar("T")


@dataclass
class RefreshStats:
    candidates: int = 0
    new_reasons: int = 0
    new_items: int = 0
    cleared_reasons: int = 0
    expired_items: int = 0
    woken_items: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    seconds_by_rule: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def weights() -> tuple[dict[str, float], set[str]]:
    """Each rule's weight, and the rules that run."""
    weight = {str(rule): value for rule, value in DEFAULT_WEIGHTS.items()}
    enabled = set(weight)
    for setting in RuleSetting.objects.all():
        weight[setting.rule] = setting.weight
        if not setting.enabled:
            enabled.discard(setting.rule)
    return weight, enabled


def factors() -> dict[tuple[str, int | None], float]:
    return {
        (a.rule, a.channel_id): a.factor
        for a in RuleAdjustment.objects.only("rule", "channel_id", "factor")
    }


def score_of(
    rule: str,
    channel_id: int | None,
    strength: float,
    weight: dict[str, float],
    learned: dict[tuple[str, int | None], float],
) -> float:
    """A reason's share of its item's priority: weight × learned factor × strength."""
    factor = learned.get((rule, channel_id), learned.get((rule, None), 1.0))
    return round(weight[rule] * factor * strength, 4)


def _update_rows(model: type[Model], columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """`UPDATE ... WHERE id = %s` once per row through the cursor: Django's bulk_update builds
    a CASE per column whose Python alone took a second for 2,000 items."""
    if not rows:
        return
    assignments = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in columns)
    sql = f"UPDATE {model._meta.db_table} SET {assignments} WHERE id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _chunks(items: list[T], size: int = CHUNK) -> list[list[T]]:
    it = iter(items)
    return list(iter(lambda: list(islice(it, size)), []))


def _new_candidates(candidates: list[Candidate]) -> list[Candidate]:
    """Candidates whose key was never filed for their member, and who may be contacted."""
    filed: set[tuple[int, str]] = set()
    for keys in _chunks(sorted({c.key for c in candidates})):
        filed.update(CareReason.objects.filter(key__in=keys).values_list("member_id", "key"))
    members = {c.member_id for c in candidates}
    no_contact = set(
        Member.objects.filter(id__in=members, do_not_contact=True).values_list("id", flat=True)
    )
    fresh: dict[tuple[int, str], Candidate] = {}
    for c in candidates:
        if (c.member_id, c.key) in filed:
            continue
        # Do-not-contact members get no outreach; their flagged messages still get moderated.
        if c.member_id in no_contact and c.rule != Rule.MODERATION:
            continue
        fresh.setdefault((c.member_id, c.key), c)
    return list(fresh.values())


def _active_items(member_ids: list[int], now: datetime) -> tuple[dict[int, int], int]:
    """Each member's open or snoozed item id, created where missing; and how many were created.
    A few queries per thousand members, whatever the burst."""
    found: dict[int, int] = {}
    for chunk in _chunks(member_ids):
        found.update(
            CareItem.objects.filter(member_id__in=chunk, status__in=ACTIVE_STATUSES).values_list(
                "member_id", "id"
            )
        )
    missing = [m for m in member_ids if m not in found]
    # ignore_conflicts: another refresh may file the same member at the same moment; the
    # constraint keeps one active item, and the re-read below finds it.
    CareItem.objects.bulk_create(
        [CareItem(member_id=m, created_at=now, updated_at=now) for m in missing],
        batch_size=CHUNK,
        ignore_conflicts=True,
    )
    for chunk in _chunks(missing):
        found.update(
            CareItem.objects.filter(member_id__in=chunk, status__in=ACTIVE_STATUSES).values_list(
                "member_id", "id"
            )
        )
    emit("care_item.created", lambda: care_item_payloads(found[m] for m in missing if m in found))
    return found, len(missing)


def _clear_resolved_reasons(now: datetime) -> int:
    """Reasons that went away on their own: the question got an answer, the moderators
    decided."""
    from townsquare.inbox.models import awaiting_among
    from townsquare.moderation.models import ModerationItem

    standing = CareReason.objects.filter(item__status__in=ACTIVE_STATUSES, cleared_at__isnull=True)
    # A message in another language stands until someone acts on it; a second-language
    # message that got no reply clears with the reply. The few thousand standing reasons'
    # conversations are looked up, not the 200,000 awaiting ones listed.
    waiting = list(
        standing.filter(
            Q(rule=Rule.UNANSWERED) | Q(key__startswith="second-language:")
        ).values_list("id", "conversation_id")
    )
    still = awaiting_among(c for _, c in waiting if c is not None)
    answered = [reason_id for reason_id, c in waiting if c not in still]
    cleared = 0
    for chunk in _chunks(answered):
        cleared += CareReason.objects.filter(id__in=chunk).update(cleared_at=now)
    decided = standing.filter(rule=Rule.MODERATION).exclude(
        interaction_id__in=ModerationItem.objects.filter(status="pending").values("interaction_id")
    )
    return cleared + decided.update(cleared_at=now)


def rerank(now: datetime, stats: RefreshStats | None = None) -> None:
    """Recompute every active item's priority from its standing reasons; items left without
    any expire."""
    weight, enabled = weights()
    learned = factors()
    # Plain tuples, no datetimes: 17,000 reasons and 15,000 items as model instances (or
    # with their times converted) took most of a second.
    reasons = CareReason.objects.filter(item__status__in=ACTIVE_STATUSES).values_list(
        "id",
        "item_id",
        "rule",
        "channel_id",
        "strength",
        "score",
        ExpressionWrapper(Q(cleared_at__isnull=False), output_field=BooleanField()),
    )
    totals: dict[int, float] = defaultdict(float)
    moderation_only: dict[int, bool] = {}
    standing: set[int] = set()
    changed: list[tuple[float, int]] = []
    for reason_id, item_id, rule, channel_id, strength, old_score, cleared in reasons:
        totals.setdefault(item_id, 0.0)
        if cleared or rule not in enabled:
            continue
        score = score_of(rule, channel_id, strength, weight, learned)
        if score != old_score:
            changed.append((score, reason_id))
        totals[item_id] += score
        standing.add(item_id)
        moderation_only[item_id] = moderation_only.get(item_id, True) and rule == Rule.MODERATION
    _update_rows(CareReason, ["score"], changed)
    items = CareItem.objects.filter(status__in=ACTIVE_STATUSES).values_list(
        "id", "priority", "for_moderators"
    )
    updated: list[tuple[float, bool, int]] = []
    expired: list[int] = []
    for item_id, old_priority, for_moderators in items:
        if item_id not in totals:
            continue  # no reason at all: filed this instant by another refresh
        if item_id not in standing:
            expired.append(item_id)
            continue
        priority = round(totals[item_id], 4)
        only_moderation = moderation_only.get(item_id, False)
        if old_priority != priority or for_moderators != only_moderation:
            updated.append((priority, only_moderation, item_id))
    _update_rows(CareItem, ["priority", "for_moderators"], updated)
    if expired:
        CareItem.objects.filter(id__in=expired).update(
            status=Status.EXPIRED, closed_at=now, updated_at=now
        )
    if stats is not None:
        stats.expired_items += len(expired)


def refresh_queue(
    now: datetime | None = None, *, rules: Collection[str] | None = None
) -> RefreshStats:
    """Run every enabled rule (or those of `rules`), file what is new, clear what went away,
    wake snoozed items whose time has come, and rank the queue. Safe to run at any time, as
    often as wanted. Reasons clear by their own conditions (an answer, a decision), never
    because a rule did not run, so running some of the rules is safe."""
    now = now or timezone.now()
    stats = RefreshStats()
    ctx = Context.load(now)
    weight, enabled = weights()
    learned = factors()
    candidates: list[Candidate] = []
    for rule, find in RULES.items():
        if rule in enabled and (rules is None or rule in rules):
            started = time.perf_counter()
            found = list(find(ctx))
            stats.seconds_by_rule[str(rule)] = round(time.perf_counter() - started, 3)
            stats.by_rule[str(rule)] = len(found)
            candidates.extend(found)
    stats.candidates = len(candidates)
    fresh = _new_candidates(candidates)
    with transaction.atomic():
        members = sorted({c.member_id for c in fresh})
        items, stats.new_items = _active_items(members, now)
        CareReason.objects.bulk_create(
            [
                CareReason(
                    item_id=items[c.member_id],
                    member_id=c.member_id,
                    rule=c.rule,
                    key=c.key,
                    detail=c.detail,
                    strength=c.strength,
                    # Scored now, so the ranking below rewrites no new reason.
                    score=score_of(c.rule, c.channel_id, c.strength, weight, learned),
                    occurred_at=c.occurred_at,
                    created_at=now,
                    interaction_id=c.interaction_id,
                    conversation_id=c.conversation_id,
                    channel_id=c.channel_id,
                )
                for c in fresh
            ],
            batch_size=CHUNK,
            ignore_conflicts=True,
        )
        stats.new_reasons = len(fresh)
        emit("milestone", lambda: milestone_payloads(fresh, items))
        for chunk in _chunks(sorted(set(items.values()))):
            CareItem.objects.filter(id__in=chunk).update(updated_at=now)
    stats.woken_items = CareItem.objects.filter(
        status=Status.SNOOZED, snoozed_until__lte=now
    ).update(status=Status.OPEN, snoozed_until=None, updated_at=now)
    stats.cleared_reasons = _clear_resolved_reasons(now)
    rerank(now, stats)
    return stats
