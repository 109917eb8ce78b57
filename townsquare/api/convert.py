"""Rows to response schemas. Each function reads only what its caller fetched (select_related,
prefetch_related), so a list costs the same few queries however long it is."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from townsquare.api.schemas import (
    IdentityBrief,
    IdentityOut,
    KnowledgeOut,
    MemberCounts,
    MemberOut,
    MemberSummaryOut,
    NoteOut,
    SegmentDetailOut,
    SegmentOut,
    SourceOut,
    TagOut,
    TouchpointOut,
    UserOut,
)
from townsquare.community.models import (
    Identity,
    KnowledgeEntry,
    Member,
    MemberTag,
    Note,
    Touchpoint,
)
from townsquare.segments.models import Segment


def user_out(user: User | None) -> UserOut | None:
    return None if user is None else UserOut(id=user.pk, username=user.get_username())


def identity_out(identity: Identity) -> IdentityOut:
    source = identity.source
    return IdentityOut(
        id=identity.pk,
        member_id=identity.member_id,
        source=SourceOut(id=source.pk, name=source.name, platform=source.platform),
        external_id=identity.external_id,
        handle=identity.handle,
        display_name=identity.display_name,
        email=identity.email,
        profile_url=identity.profile_url,
        is_bot=identity.is_bot,
        is_placeholder=identity.is_placeholder,
        created_at=identity.created_at,
    )


def _member_tags(member: Member) -> list[MemberTag]:
    return sorted(member.member_tags.all(), key=lambda mt: (mt.tag.name.casefold(), mt.tag_id))


def _identities(member: Member) -> list[Identity]:
    return sorted(member.identities.all(), key=lambda i: i.pk)


def member_summary(member: Member) -> MemberSummaryOut:
    return MemberSummaryOut(
        id=member.pk,
        display_name=member.display_name,
        first_seen_at=member.first_seen_at,
        last_seen_at=member.last_seen_at,
        interaction_count=member.interaction_count,
        is_team=member.is_team,
        is_bot=member.is_bot,
        do_not_contact=member.do_not_contact,
        merged_into_id=member.merged_into_id,
        erased=member.erased_at is not None,
        tags=[mt.tag.name for mt in _member_tags(member)],
        identities=[
            IdentityBrief(
                id=i.pk,
                source_id=i.source_id,
                platform=i.source.platform,
                handle=i.handle,
                display_name=i.display_name,
            )
            for i in _identities(member)
        ],
    )


def _text_map(value: Any) -> dict[str, str]:
    # Custom fields and segment filters are written as name -> text by the services; anything
    # else a script stored is shown as text.
    if not isinstance(value, dict):
        return {}
    return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}


def member_out(member: Member, *, notes: int, touchpoints: int, knowledge: int) -> MemberOut:
    identities = _identities(member)
    return MemberOut(
        id=member.pk,
        display_name=member.display_name,
        first_seen_at=member.first_seen_at,
        last_seen_at=member.last_seen_at,
        is_team=member.is_team,
        is_bot=member.is_bot,
        do_not_contact=member.do_not_contact,
        custom_fields=_text_map(member.custom_fields),
        merged_into_id=member.merged_into_id,
        merged_at=member.merged_at,
        erased_at=member.erased_at,
        created_at=member.created_at,
        counts=MemberCounts(
            interactions=member.interaction_count,
            identities=len(identities),
            notes=notes,
            touchpoints=touchpoints,
            knowledge=knowledge,
        ),
        tags=[
            TagOut(id=mt.tag_id, name=mt.tag.name, color=mt.tag.color, added_at=mt.added_at)
            for mt in _member_tags(member)
        ],
        identities=[identity_out(i) for i in identities],
    )


def note_out(note: Note) -> NoteOut:
    return NoteOut(
        id=note.pk,
        member_id=note.member_id,
        author=user_out(note.author),
        text=note.text,
        created_at=note.created_at,
        updated_at=note.updated_at,
    )


def touchpoint_out(touchpoint: Touchpoint) -> TouchpointOut:
    return TouchpointOut(
        id=touchpoint.pk,
        member_id=touchpoint.member_id,
        staff=user_out(touchpoint.staff),
        happened_at=touchpoint.happened_at,
        channel=touchpoint.channel,
        reason=touchpoint.reason,
        outcome=touchpoint.outcome,
        interaction_id=touchpoint.interaction_id,
        created_at=touchpoint.created_at,
    )


def knowledge_out(entry: KnowledgeEntry) -> KnowledgeOut:
    return KnowledgeOut(
        id=entry.pk,
        member_id=entry.member_id,
        title=entry.title,
        url=entry.url,
        note=entry.note,
        interaction_id=entry.interaction_id,
        created_by=user_out(entry.created_by),
        created_at=entry.created_at,
    )


def segment_out(segment: Segment) -> SegmentOut:
    return SegmentOut(
        id=segment.pk,
        name=segment.name,
        description=segment.description,
        filters=_text_map(segment.filters),
        created_by=user_out(segment.created_by),
        created_at=segment.created_at,
    )


def segment_detail_out(segment: Segment, *, member_count: int) -> SegmentDetailOut:
    return SegmentDetailOut(**segment_out(segment).model_dump(), member_count=member_count)
