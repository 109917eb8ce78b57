"""The team's memory of a member: notes, touchpoints and what they taught us."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.errors import HttpError
from ninja.params import P, PathEx

from townsquare.api.convert import knowledge_out, note_out, touchpoint_out
from townsquare.api.params import Pagination, acting_user, paginate, writer
from townsquare.api.schemas import (
    ErrorOut,
    KnowledgeIn,
    KnowledgeOut,
    KnowledgePage,
    NoteIn,
    NoteOut,
    NotePage,
    TouchpointIn,
    TouchpointOut,
    TouchpointPage,
)
from townsquare.community.memory import (
    do_add_knowledge,
    do_add_note,
    do_delete_note,
    do_edit_note,
    do_log_touchpoint,
)
from townsquare.community.models import Interaction, KnowledgeEntry, Member, Note, Touchpoint
from townsquare.front.access import can_moderate

router = Router(tags=["memory"])
ObjectId = PathEx[int, P(ge=1, le=2**63 - 1)]
NOT_FOUND = {404: ErrorOut}
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _member(member_id: int) -> Member:
    member = Member.objects.filter(pk=member_id).first()
    if member is None:
        raise HttpError(404, f"No member #{member_id}.")
    return member


def _writable_member(member_id: int) -> Member:
    member = _member(member_id)
    if member.merged_into_id is not None:
        raise HttpError(
            409,
            f"Member #{member_id} was merged into #{member.merged_into_id}: write there instead.",
        )
    if member.erased_at is not None:
        raise HttpError(409, f"Member #{member_id}'s personal data was erased.")
    return member


def _interaction(interaction_id: int | None, member: Member) -> Interaction | None:
    if interaction_id is None:
        return None
    interaction = Interaction.objects.filter(pk=interaction_id, member=member).first()
    if interaction is None:
        raise HttpError(422, f"Member #{member.pk} has no message #{interaction_id}.")
    return interaction


@router.get(
    "/members/{member_id}/notes",
    response={200: NotePage, **NOT_FOUND},
    summary="List a member's notes",
)
def list_notes(request: HttpRequest, member_id: ObjectId, page: Query[Pagination]) -> NotePage:
    """Newest first."""
    notes = Note.objects.filter(member=_member(member_id))
    return NotePage(**paginate(page, notes, note_out, rows=notes.select_related("author")))


@router.post(
    "/members/{member_id}/notes",
    response={201: NoteOut, **WRITE_ERRORS},
    summary="Add a note",
)
def add_note(request: HttpRequest, member_id: ObjectId, body: NoteIn) -> Status[NoteOut]:
    """Markdown, stored as written: whoever shows it renders and sanitizes it."""
    user = writer(request)
    member = _writable_member(member_id)
    try:
        note = do_add_note(member=member, author=user, text=body.text)
    except ValueError as e:
        raise HttpError(422, str(e)) from None
    note.author = user
    return Status(201, note_out(note))


def _own_note(request: HttpRequest, note_id: int) -> Note:
    user = writer(request)
    note = Note.objects.select_related("author").filter(pk=note_id).first()
    if note is None:
        raise HttpError(404, f"No note #{note_id}.")
    if note.author_id != user.pk:
        raise HttpError(403, "Only the note's author may change or delete it.")
    return note


@router.patch("/notes/{note_id}", response={200: NoteOut, **WRITE_ERRORS}, summary="Edit a note")
def edit_note(request: HttpRequest, note_id: ObjectId, body: NoteIn) -> NoteOut:
    """Its author only."""
    note = _own_note(request, note_id)
    try:
        do_edit_note(note=note, text=body.text)
    except ValueError as e:
        raise HttpError(422, str(e)) from None
    return note_out(note)


@router.delete("/notes/{note_id}", response={204: None, **WRITE_ERRORS}, summary="Delete a note")
def delete_note(request: HttpRequest, note_id: ObjectId) -> Status[None]:
    """Its author only."""
    do_delete_note(note=_own_note(request, note_id))
    return Status(204, None)


@router.get(
    "/members/{member_id}/touchpoints",
    response={200: TouchpointPage, **NOT_FOUND},
    summary="List a member's touchpoints",
)
def list_touchpoints(
    request: HttpRequest, member_id: ObjectId, page: Query[Pagination]
) -> TouchpointPage:
    """Most recent contact first."""
    touchpoints = Touchpoint.objects.filter(member=_member(member_id))
    rows = touchpoints.select_related("staff")
    return TouchpointPage(**paginate(page, touchpoints, touchpoint_out, rows=rows))


@router.post(
    "/members/{member_id}/touchpoints",
    response={201: TouchpointOut, **WRITE_ERRORS},
    summary="Log a touchpoint",
)
def log_touchpoint(
    request: HttpRequest, member_id: ObjectId, body: TouchpointIn
) -> Status[TouchpointOut]:
    """A human contact with the member, by the authenticated user."""
    user = writer(request)
    member = _writable_member(member_id)
    try:
        touchpoint = do_log_touchpoint(
            member=member,
            staff=user,
            happened_at=body.happened_at,
            channel=body.channel,
            reason=body.reason,
            outcome=body.outcome,
            interaction=_interaction(body.interaction_id, member),
        )
    except ValueError as e:
        raise HttpError(422, str(e)) from None
    touchpoint.staff = user
    return Status(201, touchpoint_out(touchpoint))


@router.get(
    "/members/{member_id}/knowledge",
    response={200: KnowledgePage, **NOT_FOUND},
    summary="List what a member taught us",
)
def list_knowledge(
    request: HttpRequest, member_id: ObjectId, page: Query[Pagination]
) -> KnowledgePage:
    """Newest first."""
    entries = KnowledgeEntry.objects.filter(member=_member(member_id))
    rows = entries.select_related("created_by", "interaction__moderation")
    sees_hidden = can_moderate(acting_user(request))
    return KnowledgePage(
        **paginate(page, entries, lambda e: knowledge_out(e, sees_hidden=sees_hidden), rows=rows)
    )


@router.post(
    "/members/{member_id}/knowledge",
    response={201: KnowledgeOut, **WRITE_ERRORS},
    summary="Credit a member with something they taught us",
)
def add_knowledge(
    request: HttpRequest, member_id: ObjectId, body: KnowledgeIn
) -> Status[KnowledgeOut]:
    """A tip, a tool, an article: with an http(s) link or none."""
    user = writer(request)
    member = _writable_member(member_id)
    try:
        entry = do_add_knowledge(
            member=member,
            created_by=user,
            title=body.title,
            url=body.url,
            note=body.note,
            interaction=_interaction(body.interaction_id, member),
        )
    except ValueError as e:
        raise HttpError(422, str(e)) from None
    entry.created_by = user
    return Status(201, knowledge_out(entry, sees_hidden=can_moderate(user)))
