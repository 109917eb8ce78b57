"""Segments: saved member filters, and the members each selects now. A segment's filters are the
member list page's, read, checked and run by the page's own code (front/members_filters.py), so a
segment selects the same members here as on the page."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.errors import HttpError, ValidationError
from ninja.params import P, PathEx

from townsquare.api.convert import member_summary, segment_detail_out, segment_out
from townsquare.api.params import MAX_ID, Pagination, paginate, writer
from townsquare.api.schemas import (
    ErrorOut,
    FilterValue,
    MemberPage,
    SegmentDetailOut,
    SegmentIn,
    SegmentPage,
    SegmentPatch,
)
from townsquare.front.members_filters import (
    MemberListForm,
    filter_members,
    listed,
    parse_filters,
)
from townsquare.segments.models import Segment
from townsquare.segments.services import (
    SegmentNameTaken,
    do_delete_segment,
    do_rename_segment,
    do_save_segment,
    do_set_segment_filters,
)

router = Router(tags=["segments"])
SegmentId = PathEx[int, P(ge=1, le=MAX_ID)]
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
FILTER_NAMES = tuple(MemberListForm.base_fields)
# Where ninja places a problem of the body's `filters` (the operations name their body `body`),
# so a filter the form refuses is reported as one the schema refuses.
FILTERS_LOC = ("body", "body", "filters")


def _segment(segment_id: int) -> Segment:
    segment = Segment.objects.select_related("created_by").filter(pk=segment_id).first()
    if segment is None:
        raise HttpError(404, f"No segment #{segment_id}.")
    return segment


def _in_full(segment: Segment) -> SegmentDetailOut:
    count = filter_members(parse_filters(segment.filters)).count()
    return segment_detail_out(segment, member_count=count)


def _checked_filters(raw: Mapping[str, FilterValue]) -> dict[str, str]:
    """The filters in the short form the list page saves. What the page would refuse or quietly
    drop (an unknown name, a bad value, an id that is not among its choices) is a 422 naming the
    filter: a segment must not select more members than its author asked for."""
    problems = {
        name: [f"Not a filter of the member list; those are: {', '.join(FILTER_NAMES)}."]
        for name in raw
        if name not in FILTER_NAMES
    }
    form = MemberListForm(raw)
    form.load_choices()  # the sources, tags and channels one may choose
    filters = form.filters()
    problems.update((name, [str(m) for m in messages]) for name, messages in form.errors.items())
    for name in form.known_ids:
        chosen = form.cleaned_data.get(name)
        if chosen and getattr(filters, name) != chosen:
            within = f" in source #{filters.source}" if name == "channel" else ""
            problems[name] = [f"There is no {name} #{chosen}{within}."]
    if problems:
        raise ValidationError(
            [
                {"type": "value_error", "loc": [*FILTERS_LOC, name], "msg": message}
                for name, messages in problems.items()
                for message in messages
            ]
        )
    return filters.params()


@contextmanager
def _service_errors() -> Iterator[None]:
    """The services' refusals as HTTP errors: a name already taken conflicts, the rest is a
    bad value."""
    try:
        yield
    except SegmentNameTaken as e:
        raise HttpError(409, str(e)) from None
    except ValueError as e:
        raise HttpError(422, str(e)) from None


@router.get("/segments", response=SegmentPage, summary="List segments")
def list_segments(request: HttpRequest, page: Query[Pagination]) -> SegmentPage:
    """By name. Without member counts, each being a query of its own: `GET /segments/{id}` has
    one."""
    segments = Segment.objects.all()
    rows = segments.select_related("created_by")
    return SegmentPage(**paginate(page, segments, segment_out, rows=rows))


@router.post(
    "/segments", response={201: SegmentDetailOut, **WRITE_ERRORS}, summary="Save a segment"
)
def create_segment(request: HttpRequest, body: SegmentIn) -> Status[SegmentDetailOut]:
    """Filters are the member list's query-string parameters (`{"tag": 3, "merged": true}`),
    checked as the list page reads them; they are stored in its short text form."""
    user = writer(request)
    filters = _checked_filters(body.filters)
    with _service_errors():
        segment = do_save_segment(
            name=body.name, description=body.description, filters=filters, actor=user
        )
    return Status(201, _in_full(segment))


@router.get(
    "/segments/{segment_id}",
    response={200: SegmentDetailOut, 404: ErrorOut},
    summary="Get a segment",
)
def get_segment(request: HttpRequest, segment_id: SegmentId) -> SegmentDetailOut:
    """With how many members it selects now."""
    return _in_full(_segment(segment_id))


@router.patch(
    "/segments/{segment_id}",
    response={200: SegmentDetailOut, **WRITE_ERRORS},
    summary="Change a segment",
)
def patch_segment(
    request: HttpRequest, segment_id: SegmentId, body: SegmentPatch
) -> SegmentDetailOut:
    """Rename it, describe it, or replace its filters as a whole. Fields left out are left as
    they are."""
    writer(request)
    segment = _segment(segment_id)
    filters = None if body.filters is None else _checked_filters(body.filters)
    with _service_errors(), transaction.atomic():
        if body.name is not None or body.description is not None:
            do_rename_segment(
                segment=segment,
                name=segment.name if body.name is None else body.name,
                description=body.description,
            )
        if filters is not None:
            do_set_segment_filters(segment=segment, filters=filters)
    return _in_full(segment)


@router.delete(
    "/segments/{segment_id}", response={204: None, **WRITE_ERRORS}, summary="Delete a segment"
)
def delete_segment(request: HttpRequest, segment_id: SegmentId) -> Status[None]:
    """The saved filters only: no member is touched."""
    writer(request)
    do_delete_segment(segment=_segment(segment_id))
    return Status(204, None)


@router.get(
    "/segments/{segment_id}/members",
    response={200: MemberPage, 404: ErrorOut},
    summary="List a segment's members",
)
def segment_members(
    request: HttpRequest, segment_id: SegmentId, page: Query[Pagination]
) -> MemberPage:
    """The members its filters select now, in the order the member list shows them (the
    segment's `sort`, or last seen first)."""
    filters = parse_filters(_segment(segment_id).filters)
    return MemberPage(**paginate(page, listed(filters, filter_members(filters)), member_summary))
