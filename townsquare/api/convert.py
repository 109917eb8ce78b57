"""Rows to response schemas. Each function reads only what its caller fetched (select_related,
prefetch_related), so a list costs the same few queries however long it is."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from townsquare.api.schemas import (
    AlertOut,
    CareItemDetailOut,
    CareItemOut,
    CareReasonOut,
    ChannelBrief,
    ClaimOut,
    ConversationOut,
    ConversationStateOut,
    CorrectionOut,
    IdentityBrief,
    IdentityOut,
    InteractionOut,
    KnowledgeOut,
    LabelsOut,
    MemberCounts,
    MemberOut,
    MemberRef,
    MemberSummaryOut,
    NoteOut,
    SegmentDetailOut,
    SegmentOut,
    SourceOut,
    TagOut,
    TouchpointOut,
    UserOut,
)
from townsquare.care.models import CareItem, CareReason
from townsquare.community.models import (
    Channel,
    Conversation,
    Identity,
    Interaction,
    KnowledgeEntry,
    Member,
    MemberTag,
    Note,
    Source,
    Touchpoint,
)
from townsquare.front.labels import MessageLabels
from townsquare.inbox.models import Claim, ConversationState
from townsquare.listening.models import Alert
from townsquare.segments.models import Segment


def user_out(user: User | None) -> UserOut | None:
    return None if user is None else UserOut(id=user.pk, username=user.get_username())


def source_out(source: Source) -> SourceOut:
    return SourceOut(id=source.pk, name=source.name, platform=source.platform)


def channel_brief(channel: Channel | None) -> ChannelBrief | None:
    if channel is None:
        return None
    return ChannelBrief(id=channel.pk, name=channel.name, source_id=channel.source_id)


def member_ref(member: Member | None) -> MemberRef | None:
    return None if member is None else MemberRef(id=member.pk, display_name=member.display_name)


def identity_out(identity: Identity) -> IdentityOut:
    return IdentityOut(
        id=identity.pk,
        member_id=identity.member_id,
        source=source_out(identity.source),
        external_id=identity.external_id,
        handle=identity.handle,
        display_name=identity.display_name,
        email=identity.email,
        profile_url=identity.profile_url,
        is_bot=identity.is_bot,
        is_placeholder=identity.is_placeholder,
        is_deactivated=identity.is_deactivated,
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


def knowledge_out(entry: KnowledgeEntry, *, sees_hidden: bool) -> KnowledgeOut:
    """An entry; its title and link left out when the message it came from is hidden from
    the reader, as the profile page does (`interaction__moderation` select_related'ed)."""
    hidden = entry.interaction is not None and is_hidden(entry.interaction)
    shown = sees_hidden or not hidden
    return KnowledgeOut(
        id=entry.pk,
        member_id=entry.member_id,
        title=entry.title if shown else "",
        url=entry.url if shown else "",
        note=entry.note,
        interaction_id=entry.interaction_id,
        hidden=hidden,
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


def is_hidden(interaction: Interaction) -> bool:
    """Whether a moderator hid the message (select_related("moderation") loaded it)."""
    try:
        return interaction.moderation.is_hidden
    except Interaction.moderation.RelatedObjectDoesNotExist:
        return False


def _label_value(value: Any) -> str | bool | None:
    # Corrections store text or booleans; anything else a script stored is shown as text.
    return value if value is None or isinstance(value, str | bool) else str(value)


def labels_out(labels: MessageLabels) -> LabelsOut | None:
    """A message's labels as `front.queries.attach_labels` gathered them for the pages: the
    Enrichment row holds the effective values (a correction is written into it and wins over
    re-enrichment), and `corrections` says who changed which, as the pages' marks do."""
    e = labels.enrichment
    if e is None:
        return None
    corrections = []
    for name in sorted(str(f) for f in e.corrected or []):
        c = labels.corrections.get(name)
        corrections.append(
            CorrectionOut(
                field=name,
                value=_label_value(getattr(e, name, None)),
                previous=None if c is None else _label_value(c.previous),
                corrected_by=None if c is None else user_out(c.corrected_by),
                corrected_at=e.enriched_at if c is None else c.created_at,
                note="" if c is None else c.note,
            )
        )
    return LabelsOut(
        analyzed=e.analyzed,
        language=e.language or None,
        language_confidence=e.language_confidence,
        sentiment=e.sentiment_label or None,
        sentiment_score=e.sentiment,
        is_question=e.is_question,
        question_score=e.question_score,
        is_gratitude=e.is_gratitude,
        emotion=e.emotion or None,
        is_toxic=e.is_toxic,
        toxicity=e.toxicity,
        is_spam=e.is_spam,
        spam=e.spam,
        keywords=[str(k) for k in (e.keywords if isinstance(e.keywords, list) else [])],
        terms=[badge.text for badge in labels.terms],
        corrections=corrections,
        enriched_at=e.enriched_at,
    )


def interaction_out(interaction: Interaction, *, sees_hidden: bool) -> InteractionOut:
    """One message. Its text and labels are left out when a moderator hid it and the reader is
    not a moderator, as the conversation page does. Needs `attach_labels` first."""
    hidden = is_hidden(interaction)
    shown = sees_hidden or not hidden
    labels: MessageLabels = interaction.labels  # type: ignore[attr-defined]
    return InteractionOut(
        id=interaction.pk,
        kind=interaction.kind,
        source=source_out(interaction.source),
        channel=channel_brief(interaction.channel),
        conversation_id=interaction.conversation_id,
        parent_id=interaction.parent_id,
        member=member_ref(interaction.member),
        identity_id=interaction.identity_id,
        text=interaction.text if shown else None,
        url=interaction.url,
        created_at=interaction.created_at,
        edited_at=interaction.edited_at,
        hidden=hidden,
        labels=labels_out(labels) if shown else None,
    )


def _claim(conversation: Conversation) -> Claim | None:
    try:
        return conversation.claim
    except Conversation.claim.RelatedObjectDoesNotExist:
        return None


def _state(conversation: Conversation) -> ConversationState | None:
    try:
        return conversation.state
    except Conversation.state.RelatedObjectDoesNotExist:
        return None


def conversation_out(conversation: Conversation, *, sees_hidden: bool) -> ConversationOut:
    """A conversation with its inbox state and claim (select_related'ed). The first message's
    labels, and the title (that message's words), are left out when it is hidden from the
    reader (`first_hidden` annotation)."""
    state = _state(conversation)
    claim = _claim(conversation)
    labels_shown = sees_hidden or not getattr(conversation, "first_hidden", False)
    state_out = None
    if state is not None:
        state_out = ConversationStateOut(
            opened_by=member_ref(state.opened_by),
            opened_at=state.opened_at,
            first_message_id=state.first_message_id,
            is_question=state.is_question if labels_shown else None,
            language=(state.language or None) if labels_shown else None,
            sentiment=(state.sentiment or None) if labels_shown else None,
            first_response_at=state.first_response_at,
            first_responder_id=state.first_responder_id,
            last_activity_at=state.last_activity_at,
            message_count=state.message_count,
            awaiting_reply=state.awaiting_reply,
            answered_at=state.answered_at,
            answered_by=user_out(state.answered_by),
            answered_link=state.answered_link,
        )
    return ConversationOut(
        id=conversation.pk,
        source=source_out(conversation.source),
        channel=channel_brief(conversation.channel),
        external_id=conversation.external_id,
        title=conversation.title if labels_shown else "",
        url=conversation.url,
        started_at=conversation.started_at,
        state=state_out,
        claim=None
        if claim is None
        else ClaimOut(
            user=UserOut(id=claim.user.pk, username=claim.user.get_username()),
            claimed_at=claim.claimed_at,
        ),
    )


def care_reason_out(reason: CareReason) -> CareReasonOut:
    return CareReasonOut(
        id=reason.pk,
        rule=reason.rule,
        detail=reason.detail,
        strength=reason.strength,
        score=reason.score,
        occurred_at=reason.occurred_at,
        created_at=reason.created_at,
        cleared_at=reason.cleared_at,
        interaction_id=reason.interaction_id,
        conversation_id=reason.conversation_id,
        channel_id=reason.channel_id,
    )


def care_item_out(
    item: CareItem, reasons: list[CareReason], maybe_also: list[Member]
) -> CareItemOut:
    return CareItemOut(
        id=item.pk,
        member=MemberRef(id=item.member.pk, display_name=item.member.display_name),
        status=item.status,
        priority=item.priority,
        for_moderators=item.for_moderators,
        assigned_to=user_out(item.assigned_to),
        snoozed_until=item.snoozed_until,
        created_at=item.created_at,
        updated_at=item.updated_at,
        closed_at=item.closed_at,
        closed_by=user_out(item.closed_by),
        dismiss_reason=item.dismiss_reason,
        touchpoint_id=item.touchpoint_id,
        reasons=[care_reason_out(r) for r in reasons],
        maybe_also=[MemberRef(id=m.pk, display_name=m.display_name) for m in maybe_also],
    )


def care_item_detail_out(
    item: CareItem, reasons: list[CareReason], maybe_also: list[Member]
) -> CareItemDetailOut:
    touchpoint = item.touchpoint
    return CareItemDetailOut(
        **care_item_out(item, reasons, maybe_also).model_dump(),
        touchpoint=None if touchpoint is None else touchpoint_out(touchpoint),
    )


def alert_out(alert: Alert) -> AlertOut:
    return AlertOut(
        id=alert.pk,
        channel=channel_brief(alert.channel),
        metric=alert.metric,
        window_start=alert.window_start,
        window_end=alert.window_end,
        value=alert.value,
        mean=alert.mean,
        std=alert.std,
        k=alert.k,
        message=alert.message,
        created_at=alert.created_at,
        acknowledged_by=user_out(alert.acknowledged_by),
        acknowledged_at=alert.acknowledged_at,
    )
