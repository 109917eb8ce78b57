"""Merging members and undoing it exactly; marking team members and bots; the audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
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
    Tag,
    Touchpoint,
)
from townsquare.community.services import (
    MergeError,
    do_mark_member,
    do_merge_members,
    do_unmerge_member,
)
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.lib.testing import import_export, make_staff
from townsquare.listening.models import Thanks

pytestmark = pytest.mark.django_db

MEMBER_FIELDS = [f.attname for f in Member._meta.concrete_fields]


def snapshot() -> dict[str, Any]:
    """Everything a merge may touch, as plain values."""
    return {
        "identities": dict(Identity.objects.values_list("id", "member_id")),
        "interactions": dict(Interaction.objects.values_list("id", "member_id")),
        "notes": dict(Note.objects.values_list("id", "member_id")),
        "touchpoints": dict(Touchpoint.objects.values_list("id", "member_id")),
        "knowledge": dict(KnowledgeEntry.objects.values_list("id", "member_id")),
        "tags": dict(MemberTag.objects.values_list("id", "member_id")),
        "thanks": list(Thanks.objects.values_list("id", "from_member_id", "to_member_id")),
        "members": list(Member.objects.order_by("id").values_list(*MEMBER_FIELDS)),
    }


def workspace(tmp_path: Path, name: str, users: list[dict[str, Any]], ts: int) -> None:
    messages = [
        {
            "type": "message",
            "user": u["id"],
            "text": f"hello from {u['name']}",
            "ts": f"{ts + n}.000100",
        }
        for n, u in enumerate(users)
    ] + [{"type": "message", "user": users[0]["id"], "text": "another", "ts": f"{ts + 99}.000100"}]
    import_export(
        "slack", write_slack_export(tmp_path / name, {"general": messages}, users), source=name
    )


@pytest.fixture
def alice() -> User:
    return make_staff("alice", superuser=True)


@pytest.fixture
def people(tmp_path: Path, alice: User) -> dict[str, Member]:
    """Ada on two workspaces, Bob on one; each with memory attached."""
    workspace(
        tmp_path,
        "north",
        [
            {"id": "U1", "name": "ada", "profile": {"real_name": "Ada Lovelace"}},
            {"id": "U2", "name": "bob", "profile": {"real_name": "Bob Builder"}},
        ],
        1_700_000_000,
    )
    workspace(
        tmp_path,
        "south",
        [{"id": "V1", "name": "ada.l", "profile": {"real_name": "Ada L."}}],
        1_600_000_000,
    )
    found = {
        "ada": Member.objects.get(display_name="Ada Lovelace"),
        "ada_south": Member.objects.get(display_name="Ada L."),
        "bob": Member.objects.get(display_name="Bob Builder"),
    }
    speaker, beta = Tag.objects.create(name="speaker"), Tag.objects.create(name="beta")
    for m in found.values():
        Note.objects.create(member=m, author=alice, text="met at the meetup")
        Touchpoint.objects.create(member=m, staff=alice, happened_at=timezone.now())
        KnowledgeEntry.objects.create(member=m, title="a tip", created_by=alice)
        MemberTag.objects.create(member=m, tag=speaker)
    MemberTag.objects.create(member=found["ada_south"], tag=beta)
    interaction = Interaction.objects.filter(member=found["bob"]).first()
    assert interaction is not None
    Thanks.objects.create(
        interaction=interaction,
        from_member=found["bob"],
        to_member=found["ada_south"],
        created_at=interaction.created_at,
    )
    for m in found.values():
        m.refresh_from_db()
    return found


def test_it_moves_everything_to_the_target(people: dict[str, Member], alice: User) -> None:
    ada, south = people["ada"], people["ada_south"]
    south_interactions = set(Interaction.objects.filter(member=south).values_list("id", flat=True))

    do_merge_members(target=ada, others=[south], actor=alice, reason="same person")

    south.refresh_from_db()
    assert south.merged_into_id == ada.id
    assert south.merged_at is not None
    assert Identity.objects.filter(member=ada).count() == 2
    assert south_interactions <= set(
        Interaction.objects.filter(member=ada).values_list("id", flat=True)
    )
    assert not Interaction.objects.filter(member=south).exists()
    assert Note.objects.filter(member=ada).count() == 2
    assert Touchpoint.objects.filter(member=ada).count() == 2
    assert KnowledgeEntry.objects.filter(member=ada).count() == 2
    # Ada had "speaker" already: south's stays with south; "beta" moves.
    assert sorted(MemberTag.objects.filter(member=ada).values_list("tag__name", flat=True)) == [
        "beta",
        "speaker",
    ]
    assert Thanks.objects.get().to_member_id == ada.id
    ada.refresh_from_db()
    assert ada.interaction_count == 4  # 2 in north, 2 in south
    assert ada.first_seen_at is not None
    assert ada.first_seen_at.timestamp() == pytest.approx(1_600_000_000.0001)


def test_it_restores_the_state_exactly_after_unmerge(
    people: dict[str, Member], alice: User
) -> None:
    before = snapshot()
    merge = do_merge_members(
        target=people["ada"], others=[people["ada_south"]], actor=alice, reason="same"
    )
    assert snapshot() != before
    # A note written on the merged member after the merge stays with it.
    later = Note.objects.create(member=people["ada"], author=alice, text="later")

    unmerge = do_unmerge_member(member=people["ada_south"], actor=alice, reason="two people")

    after = snapshot()
    assert after["notes"].pop(later.id) == people["ada"].id
    assert after == before
    assert unmerge.details["merge_entry"] == merge.id
    pair = MergeSuggestion.objects.get()
    assert pair.status == MergeStatus.REJECTED


def test_it_restores_a_merge_of_several_members(people: dict[str, Member], alice: User) -> None:
    before = snapshot()
    do_merge_members(
        target=people["bob"], others=[people["ada"], people["ada_south"]], actor=alice, reason="x"
    )
    # The thanks from bob to ada would become bob thanking himself: it stays, hidden.
    assert Thanks.objects.get().to_member_id == people["ada_south"].id

    do_unmerge_member(member=people["ada"], actor=alice, reason="")
    do_unmerge_member(member=people["ada_south"], actor=alice, reason="")

    assert snapshot() == before


def test_it_audits_ids_and_counts_without_personal_data(
    people: dict[str, Member], alice: User
) -> None:
    entry = do_merge_members(
        target=people["ada"], others=[people["ada_south"]], actor=alice, reason="same"
    )

    assert entry.action == AuditAction.MERGE
    assert entry.member_ids == [people["ada"].id, people["ada_south"].id]
    assert entry.actor == alice
    assert not entry.automatic
    moved = entry.details["moved"][str(people["ada_south"].id)]
    assert moved["identities"] == list(
        Identity.objects.filter(source__name="south").values_list("id", flat=True)
    )
    assert entry.details["counts"]["interactions"] == 2
    text = str(entry.details).lower()
    assert "ada" not in text and "lovelace" not in text and "@" not in text


def test_it_refuses_impossible_merges(people: dict[str, Member], alice: User) -> None:
    ada, south, bob = people["ada"], people["ada_south"], people["bob"]
    with pytest.raises(MergeError):
        do_merge_members(target=ada, others=[ada], actor=alice, reason="")
    with pytest.raises(MergeError):
        do_merge_members(target=ada, others=[], actor=alice, reason="")
    do_merge_members(target=ada, others=[south], actor=alice, reason="")
    with pytest.raises(MergeError):
        do_merge_members(target=bob, others=[south], actor=alice, reason="")
    with pytest.raises(MergeError):
        do_unmerge_member(member=bob, actor=alice, reason="")


def test_it_unmerges_in_reverse_order_only(people: dict[str, Member], alice: User) -> None:
    ada, south, bob = people["ada"], people["ada_south"], people["bob"]
    before = snapshot()
    do_merge_members(target=ada, others=[south], actor=alice, reason="")
    do_merge_members(target=bob, others=[ada], actor=alice, reason="")

    with pytest.raises(MergeError):
        do_unmerge_member(member=south, actor=alice, reason="")
    do_unmerge_member(member=ada, actor=alice, reason="")
    do_unmerge_member(member=south, actor=alice, reason="")

    assert snapshot() == before


def test_it_carries_do_not_contact_to_the_person(people: dict[str, Member], alice: User) -> None:
    ada, south = people["ada"], people["ada_south"]
    do_mark_member(member=south, actor=alice, do_not_contact=True)

    do_merge_members(target=ada, others=[south], actor=alice, reason="")
    ada.refresh_from_db()
    assert ada.do_not_contact
    do_unmerge_member(member=south, actor=alice, reason="")
    ada.refresh_from_db()
    assert not ada.do_not_contact


def test_it_marks_and_audits(people: dict[str, Member], alice: User) -> None:
    bob = people["bob"]

    entry = do_mark_member(member=bob, actor=alice, is_team=True, is_bot=False)

    bob.refresh_from_db()
    assert bob.is_team and not bob.is_bot
    assert entry is not None
    assert entry.action == AuditAction.MARK
    assert entry.details == {"before": {"is_team": False}, "after": {"is_team": True}}
    assert do_mark_member(member=bob, actor=alice, is_team=True) is None
    assert AuditEntry.objects.filter(action=AuditAction.MARK).count() == 1
