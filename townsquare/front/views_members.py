"""What one does with the member list as a whole: export it, tag it, save it as a segment."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from townsquare.community.memory import do_tag_members
from townsquare.community.models import AuditAction, AuditEntry, Member
from townsquare.front.access import can_edit_members, can_export_members, can_read, requires
from townsquare.front.members_filters import (
    MemberFilters,
    csv_lines,
    filter_members,
    parse_filters,
)
from townsquare.segments.models import Segment
from townsquare.segments.services import (
    do_delete_segment,
    do_rename_segment,
    do_save_segment,
)

SEGMENTS_PER_PAGE = 50
# "Tag selected" takes at most one page of members.
MAX_SELECTED = 500


def _members_url(f: MemberFilters) -> str:
    query = urlencode(f.params())
    return reverse("members") + (f"?{query}" if query else "")


def _staff(request: HttpRequest) -> User:
    user = request.user
    if not can_edit_members(user) or not isinstance(user, User):
        raise PermissionDenied
    return user


@requires(can_read)
@require_GET
def members_export(request: HttpRequest) -> StreamingHttpResponse:
    if not can_export_members(request.user):
        raise PermissionDenied
    f = parse_filters(request.GET)
    members = filter_members(f)
    count = members.count()
    # Logged before the first byte: an export cut short was still an export.
    AuditEntry.objects.create(
        action=AuditAction.EXPORT,
        actor=request.user if request.user.is_authenticated else None,
        reason="Member list as CSV",
        details={"format": "csv", "filters": f.audit_params(), "count": count},
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(csv_lines(members), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="members-{stamp}.csv"'
    return response


@requires(can_read)
@require_POST
def members_tag(request: HttpRequest) -> HttpResponse:
    """Tag the members ticked on the list."""
    actor = _staff(request)
    back = request.POST.get("next_query", "")
    target = reverse("members") + (f"?{back}" if back else "")
    ids = sorted({int(v) for v in request.POST.getlist("member") if v.isdigit()})
    if not ids:
        messages.error(request, "Tick at least one member to tag.")
        return redirect(target)
    if len(ids) > MAX_SELECTED:
        messages.error(request, f"Tag at most {MAX_SELECTED} members at once.")
        return redirect(target)
    chosen = Member.objects.filter(pk__in=ids, merged_into__isnull=True, erased_at__isnull=True)
    try:
        people = list(chosen.only("id", "merged_into", "erased_at"))
        tag = do_tag_members(members=people, tag_name=request.POST.get("tag_name", ""), actor=actor)
    except ValueError as error:
        messages.error(request, str(error))
        return redirect(target)
    messages.success(
        request, f"Tagged {len(people)} member{'s' if len(people) != 1 else ''} “{tag.name}”."
    )
    return redirect(target)


@requires(can_read)
@require_http_methods(["GET", "POST"])
def members_tag_all(request: HttpRequest) -> HttpResponse:
    """Tag every member the filters select, after a confirmation that shows how many. The
    confirmed number is sent back: if the list changed meanwhile, it is shown again."""
    actor = _staff(request)
    params = request.POST if request.method == "POST" else request.GET
    f = parse_filters(params)
    # Merged and erased members take no new tags, whatever the filters include.
    members = filter_members(f).filter(merged_into__isnull=True, erased_at__isnull=True)
    count = members.count()
    error = ""
    if request.method == "POST":
        expected = request.POST.get("expected", "")
        if expected != str(count):
            error = f"The list changed: {count} members match now. Check and confirm again."
        elif count == 0:
            error = "No member matches these filters."
        else:
            try:
                people = list(members.only("id", "merged_into", "erased_at").prefetch_related(None))
                tag = do_tag_members(
                    members=people, tag_name=request.POST.get("tag_name", ""), actor=actor
                )
            except ValueError as problem:
                error = str(problem)
            else:
                messages.success(
                    request, f"Tagged all {len(people)} matching members “{tag.name}”."
                )
                return redirect(_members_url(f))
    context = {
        "section": "members",
        "count": count,
        "params": f.params(),
        "back": _members_url(f),
        "error": error,
        "tag_name": request.POST.get("tag_name", "") if request.method == "POST" else "",
    }
    return render(request, "front/members_tag_all.html", context, status=400 if error else 200)


@requires(can_read)
@require_GET
def segments(request: HttpRequest) -> HttpResponse:
    page = Paginator(Segment.objects.select_related("created_by"), SEGMENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    # One count per segment shown: at most SEGMENTS_PER_PAGE, each a single query.
    rows = [(s, filter_members(parse_filters(s.filters)).count()) for s in page.object_list]
    context = {
        "section": "members",
        "page": page,
        "rows": rows,
        "can_edit": can_edit_members(request.user),
    }
    return render(request, "front/segments.html", context)


@requires(can_read)
@require_POST
def segment_create(request: HttpRequest) -> HttpResponse:
    actor = _staff(request)
    f = parse_filters(request.POST)
    try:
        segment = do_save_segment(
            name=request.POST.get("name", ""),
            description=request.POST.get("description", ""),
            filters=f.params(),
            actor=actor,
        )
    except ValueError as error:
        messages.error(request, str(error))
        return redirect(_members_url(f))
    messages.success(request, f"Saved the segment “{segment.name}”.")
    return redirect("segments")


@requires(can_read)
@require_GET
def segment_open(request: HttpRequest, segment_id: int) -> HttpResponse:
    """The member list with the segment's filters: its members as of now."""
    segment = get_object_or_404(Segment, pk=segment_id)
    return redirect(_members_url(parse_filters(segment.filters)))


@requires(can_read)
@require_POST
def segment_edit(request: HttpRequest, segment_id: int) -> HttpResponse:
    _staff(request)
    segment = get_object_or_404(Segment, pk=segment_id)
    try:
        do_rename_segment(
            segment=segment,
            name=request.POST.get("name", ""),
            description=request.POST.get("description"),
        )
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Renamed the segment “{segment.name}”.")
    return redirect("segments")


@requires(can_read)
@require_POST
def segment_delete(request: HttpRequest, segment_id: int) -> HttpResponse:
    _staff(request)
    segment = get_object_or_404(Segment, pk=segment_id)
    name = segment.name
    do_delete_segment(segment=segment)
    messages.success(request, f"Deleted the segment “{name}”.")
    return redirect("segments")


urlpatterns = [
    path("members/export.csv", members_export, name="members_export"),
    path("members/tag/", members_tag, name="members_tag"),
    path("members/tag-all/", members_tag_all, name="members_tag_all"),
    path("segments/", segments, name="segments"),
    path("segments/new/", segment_create, name="segment_create"),
    path("segments/<int:segment_id>/", segment_open, name="segment"),
    path("segments/<int:segment_id>/edit/", segment_edit, name="segment_edit"),
    path("segments/<int:segment_id>/delete/", segment_delete, name="segment_delete"),
]
