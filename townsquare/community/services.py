"""Writes to members that touch several models: merge, unmerge, marking, merge decisions.

Views and commands call these; every one of them writes an AuditEntry holding the ids needed
to undo it and counts, never names, emails or text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, IntegerField, Max, Min, Model, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from townsquare.community.models import (
    AuditAction,
    AuditEntry,
    Identity,
    Interaction,
    KnowledgeEntry,
    Member,
    MemberTag,
    MergeStatus,
    MergeSuggestion,
    Note,
    Touchpoint,
)
from townsquare.inbox.rollup import refresh_member_conversations
from townsquare.listening.models import Enrichment, Thanks
from townsquare.metrics.rollups import refresh_members as refresh_member_rollups
from townsquare.webhooks.events import emit, merge_payload

# Rows moved with a member, by the name they have in an audit entry's details.
MOVED_WITH_MEMBER: dict[str, type[Model]] = {
    "identities": Identity,
    "interactions": Interaction,
    "notes": Note,
    "touchpoints": Touchpoint,
    "knowledge": KnowledgeEntry,
    "tags": MemberTag,
}
# Ids per UPDATE: well under every database's limit on query parameters.
CHUNK = 900


class MergeError(ValueError):
    """A merge or unmerge that cannot be done, with the reason in words."""


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _move(model: type[Model], ids: Sequence[int], field: str, to: int, *, from_: int) -> None:
    for chunk in _chunks(ids):
        model._default_manager.filter(id__in=chunk, **{f"{field}_id": from_}).update(
            **{f"{field}_id": to}
        )
        if model is Interaction:
            # Their enrichments' copy of the member follows (listening.models.Enrichment).
            Enrichment.objects.filter(interaction_id__in=chunk).update(
                member_id=Subquery(
                    Interaction.objects.filter(pk=OuterRef("interaction_id")).values("member_id")
                )
            )


def refresh_activity(member_ids: Iterable[int]) -> None:
    """Recompute first/last seen and interaction counts of these members from their rows."""
    of_member = Interaction.objects.filter(member=OuterRef("pk")).order_by().values("member")
    ids = sorted(set(member_ids))
    for chunk in _chunks(ids):
        Member.objects.filter(id__in=chunk).update(
            first_seen_at=Subquery(of_member.annotate(v=Min("created_at")).values("v")),
            last_seen_at=Subquery(of_member.annotate(v=Max("created_at")).values("v")),
            interaction_count=Coalesce(
                Subquery(of_member.annotate(v=Count("id")).values("v")),
                Value(0),
                output_field=IntegerField(),
            ),
        )


def _thanks_to_move(target: Member, other_ids: set[int]) -> tuple[dict[int, list[int]], ...]:
    """Thanks given and received by the others that can move to the target: not one that
    would become the target thanking itself, nor a second "thanks to the target" for the
    same message (those stay with the absorbed member, which keeps them hidden)."""
    given: dict[int, list[int]] = defaultdict(list)
    received: dict[int, list[int]] = defaultdict(list)
    people = other_ids | {target.id}
    rows = list(
        Thanks.objects.filter(from_member_id__in=other_ids).values_list(
            "id", "interaction_id", "from_member_id", "to_member_id"
        )
    ) + list(
        Thanks.objects.filter(to_member_id__in=other_ids)
        .exclude(from_member_id__in=other_ids)
        .values_list("id", "interaction_id", "from_member_id", "to_member_id")
    )
    interactions = {r[1] for r in rows}
    taken = set(
        Thanks.objects.filter(interaction_id__in=interactions, to_member=target).values_list(
            "interaction_id", flat=True
        )
    )
    for thanks_id, interaction_id, from_id, to_id in sorted(rows):
        new_from = target.id if from_id in people else from_id
        new_to = target.id if to_id in people else to_id
        if new_from == new_to:
            continue
        if to_id in other_ids:
            if interaction_id in taken:
                continue
            taken.add(interaction_id)
            received[to_id].append(thanks_id)
        if from_id in other_ids:
            given[from_id].append(thanks_id)
    return given, received


def do_merge_members(
    *,
    target: Member,
    others: Sequence[Member],
    actor: User | None,
    reason: str,
    automatic: bool = False,
) -> AuditEntry:
    """Make the others part of the target: their identities, interactions, notes,
    touchpoints, knowledge, tags and thanks move to it, and they are kept, hidden, as merged
    into it. Every moved row's id goes into the audit entry, so an unmerge moves exactly those
    back; rows added to the target later stay with it."""
    other_ids = {m.id for m in others}
    with transaction.atomic():
        locked = {
            m.id: m
            for m in Member.objects.select_for_update().filter(id__in=other_ids | {target.id})
        }
        if not other_ids or target.id in other_ids or len(locked) != len(other_ids) + 1:
            raise MergeError("Choose a member and at least one other member to merge into it.")
        if any(m.merged_into_id for m in locked.values()):
            raise MergeError("A member that is already merged cannot be merged again.")
        if any(m.erased_at for m in locked.values()):
            raise MergeError("An erased member cannot be merged.")
        target = locked[target.id]
        now = timezone.now()
        moved: dict[int, dict[str, list[int]]] = {m: defaultdict(list) for m in other_ids}
        for name, model in MOVED_WITH_MEMBER.items():
            rows = model._default_manager.filter(member_id__in=other_ids).order_by("id")
            if model is MemberTag:
                have = set(MemberTag.objects.filter(member=target).values_list("tag_id", flat=True))
                for row_id, member_id, tag_id in rows.values_list("id", "member_id", "tag_id"):
                    if tag_id not in have:  # the target has the tag already: keep this one
                        have.add(tag_id)
                        moved[member_id][name].append(row_id)
            else:
                for row_id, member_id in rows.values_list("id", "member_id"):
                    moved[member_id][name].append(row_id)
        given, received = _thanks_to_move(target, other_ids)
        for member_id, ids in given.items():
            moved[member_id]["thanks_given"] = ids
        for member_id, ids in received.items():
            moved[member_id]["thanks_received"] = ids

        for member_id, rows_of in moved.items():
            for name, model in MOVED_WITH_MEMBER.items():
                _move(model, rows_of.get(name, []), "member", target.id, from_=member_id)
            _move(
                Thanks, rows_of.get("thanks_given", []), "from_member", target.id, from_=member_id
            )
            _move(
                Thanks, rows_of.get("thanks_received", []), "to_member", target.id, from_=member_id
            )
        Member.objects.filter(id__in=other_ids).update(merged_into=target, merged_at=now)
        # Whoever asked not to be contacted on one account asked it for the person.
        set_do_not_contact = not target.do_not_contact and any(
            locked[m].do_not_contact for m in other_ids
        )
        if set_do_not_contact:
            Member.objects.filter(id=target.id).update(do_not_contact=True)
        people = other_ids | {target.id}
        MergeSuggestion.objects.filter(member_a_id__in=people, member_b_id__in=people).update(
            status=MergeStatus.ACCEPTED, decided_by=actor, decided_at=now
        )
        refresh_activity(people)
        refresh_member_conversations(people)  # openers and responders are compared by member
        refresh_member_rollups(people)  # the metrics' per-member counts
        counts: dict[str, int] = defaultdict(int)
        for rows_of in moved.values():
            for name, ids in rows_of.items():
                counts[name] += len(ids)
        entry = AuditEntry.objects.create(
            action=AuditAction.MERGE,
            member_ids=[target.id, *sorted(other_ids)],
            actor=actor,
            automatic=automatic,
            reason=reason,
            details={
                "target": target.id,
                "moved": {str(m): dict(rows_of) for m, rows_of in sorted(moved.items())},
                "set_do_not_contact": set_do_not_contact,
                "counts": dict(counts),
            },
        )
        emit(
            "members.merged",
            merge_payload(
                target=target,
                others=[locked[m] for m in sorted(other_ids)],
                actor=actor,
                automatic=automatic,
                merged_at=now,
            ),
        )
    target.refresh_from_db()
    for member in others:
        member.refresh_from_db()
    return entry


def merge_entry_of(member: Member) -> AuditEntry | None:
    """The audit entry of the merge that absorbed this member."""
    if member.merged_into_id is None or member.merged_at is None:
        return None
    entries = AuditEntry.objects.filter(
        action=AuditAction.MERGE, created_at__gte=member.merged_at
    ).order_by("created_at", "id")
    for entry in entries.iterator():
        details: dict[str, Any] = entry.details
        if details.get("target") == member.merged_into_id and str(member.id) in details.get(
            "moved", {}
        ):
            return entry
    return None


def do_unmerge_member(*, member: Member, actor: User | None, reason: str) -> AuditEntry:
    """Undo the merge that absorbed this member: exactly the rows it moved come back, the
    member is listed again, and the pair is remembered as two people (never suggested or
    merged automatically again)."""
    with transaction.atomic():
        member = Member.objects.select_for_update().get(id=member.id)
        if member.merged_into_id is None:
            raise MergeError("This member is not merged into another.")
        target = Member.objects.select_for_update().get(id=member.merged_into_id)
        if target.merged_into_id is not None:
            raise MergeError(f"{target.display_name} was itself merged since: unmerge it first.")
        entry = merge_entry_of(member)
        if entry is None:
            raise MergeError("The record of this merge is missing: it cannot be undone.")
        rows_of: dict[str, list[int]] = entry.details["moved"][str(member.id)]
        for name, model in MOVED_WITH_MEMBER.items():
            _move(model, rows_of.get(name, []), "member", member.id, from_=target.id)
        _move(Thanks, rows_of.get("thanks_given", []), "from_member", member.id, from_=target.id)
        _move(Thanks, rows_of.get("thanks_received", []), "to_member", member.id, from_=target.id)
        Member.objects.filter(id=member.id).update(merged_into=None, merged_at=None)
        if entry.details.get("set_do_not_contact") and target.do_not_contact:
            still = target.merged_members.filter(do_not_contact=True).exists()
            Member.objects.filter(id=target.id).update(do_not_contact=still)
        now = timezone.now()
        a, b = sorted((member.id, target.id))
        MergeSuggestion.objects.update_or_create(
            member_a_id=a,
            member_b_id=b,
            defaults={
                "status": MergeStatus.REJECTED,
                "decided_by": actor,
                "decided_at": now,
            },
            create_defaults={
                "confidence": 0.0,
                "evidence": [],
                "status": MergeStatus.REJECTED,
                "decided_by": actor,
                "decided_at": now,
            },
        )
        refresh_activity([member.id, target.id])
        refresh_member_conversations([member.id, target.id])
        refresh_member_rollups([member.id, target.id])
        unmerged = AuditEntry.objects.create(
            action=AuditAction.UNMERGE,
            member_ids=[member.id, target.id],
            actor=actor,
            reason=reason,
            details={
                "target": target.id,
                "merge_entry": entry.id,
                "counts": {name: len(ids) for name, ids in rows_of.items()},
            },
        )
    member.refresh_from_db()
    return unmerged


def do_mark_member(
    *,
    member: Member,
    actor: User | None,
    is_team: bool | None = None,
    is_bot: bool | None = None,
    do_not_contact: bool | None = None,
) -> AuditEntry | None:
    """Mark a member as team, bot or do-not-contact (or not); None leaves a flag as it is.
    Team members and bots drop out of metrics and levels. Returns the audit entry, or None
    when nothing changed."""
    wanted = {"is_team": is_team, "is_bot": is_bot, "do_not_contact": do_not_contact}
    with transaction.atomic():
        current = Member.objects.select_for_update().get(id=member.id)
        changes = {
            name: value
            for name, value in wanted.items()
            if value is not None and getattr(current, name) != value
        }
        if not changes:
            return None
        Member.objects.filter(id=member.id).update(**changes)
        if "is_bot" in changes:  # a bot's messages are no first response
            refresh_member_conversations([member.id])
        entry = AuditEntry.objects.create(
            action=AuditAction.MARK,
            member_ids=[member.id],
            actor=actor,
            details={
                "before": {name: getattr(current, name) for name in changes},
                "after": changes,
            },
        )
    member.refresh_from_db()
    return entry


def do_accept_suggestion(*, suggestion: MergeSuggestion, actor: User | None) -> AuditEntry:
    """Merge the two members of a suggestion, the more active one absorbing the other."""
    from townsquare.community.resolution import target_of

    if suggestion.status != MergeStatus.OPEN:
        raise MergeError("This suggestion was already decided.")
    target, other = target_of(suggestion.member_a, suggestion.member_b)
    reason = "accepted suggestion: " + ", ".join(str(e) for e in suggestion.evidence)
    return do_merge_members(target=target, others=[other], actor=actor, reason=reason)


def do_reject_suggestion(*, suggestion: MergeSuggestion, actor: User | None) -> None:
    """Remember that the two members are different people: never suggested again."""
    if suggestion.status != MergeStatus.OPEN:
        raise MergeError("This suggestion was already decided.")
    suggestion.status = MergeStatus.REJECTED
    suggestion.decided_by = actor
    suggestion.decided_at = timezone.now()
    suggestion.save(update_fields=["status", "decided_by", "decided_at"])
