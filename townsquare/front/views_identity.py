"""One person across platforms: merge suggestions, merging and unmerging by hand, marking
team members and bots, and the audit log of it all."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from townsquare.community import resolution
from townsquare.community.models import AuditEntry, Member, MergeSuggestion
from townsquare.community.resolution import open_suggestions
from townsquare.community.services import (
    MergeError,
    do_accept_suggestion,
    do_mark_member,
    do_merge_members,
    do_reject_suggestion,
    do_unmerge_member,
)
from townsquare.front import queries
from townsquare.front.access import can_merge_members, can_read, requires

# The flags staff may set on a member page, with the words of their buttons.
MARKS = {"is_team": "team", "is_bot": "bot", "do_not_contact": "do not contact"}
SEARCH_LIMIT = 20
PAGE_SIZE = 50


def paginate(request: HttpRequest, items: QuerySet[Any]) -> Page[Any]:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _staff_user(request: HttpRequest) -> User:
    if not can_merge_members(request.user):
        raise PermissionDenied("Only managers and admins can merge, unmerge and mark members.")
    assert isinstance(request.user, User)  # noqa: S101 - staff implies a signed-in user
    return request.user


# Open suggestions shown on a member's page at most (the rest on the suggestions page).
MEMBER_SUGGESTIONS = 5


def member_identity_context(request: HttpRequest, member: Member) -> dict[str, Any]:
    """What the member page needs for its merge, unmerge and marking controls, and the open
    suggestions that this member may be someone else too (before reaching out to one half of
    a person, a manager wants to see the other)."""

    def maybe_also() -> list[tuple[MergeSuggestion, Member]]:
        # Called by the template that shows it: the timeline's htmx refresh never reads it.
        return resolution.maybe_also([member.pk]).get(member.pk, [])[:MEMBER_SUGGESTIONS]

    return {
        "can_merge": can_merge_members(request.user),
        "absorbed": list(member.merged_members.order_by("merged_at", "id")),
        "marks": [(name, words, getattr(member, name)) for name, words in MARKS.items()],
        "maybe_also": maybe_also,
    }


@requires(can_read)
@require_safe
def merges(request: HttpRequest) -> HttpResponse:
    page = paginate(request, open_suggestions())
    context = {"section": "members", "page": page, "can_merge": can_merge_members(request.user)}
    return render(request, "front/merge_suggestions.html", context)


@requires(can_read)
@require_POST
def merge_decide(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    user = _staff_user(request)
    suggestion = get_object_or_404(
        MergeSuggestion.objects.select_related("member_a", "member_b"), pk=suggestion_id
    )
    decision = request.POST.get("decision")
    try:
        if decision == "accept":
            do_accept_suggestion(suggestion=suggestion, actor=user)
            messages.success(request, "Merged.")
        elif decision == "reject":
            do_reject_suggestion(suggestion=suggestion, actor=user)
            messages.info(request, "Kept apart; this pair will not be suggested again.")
        else:
            messages.error(request, "Choose to merge or to keep them apart.")
    except MergeError as e:
        messages.error(request, str(e))
    # Decided from a member's page: back to it (the merged-into member's, after a merge).
    back = request.POST.get("member")
    if back and back.isdigit():
        member = Member.objects.filter(pk=int(back)).only("merged_into_id").first()
        if member is not None:
            return redirect("member", member.merged_into_id or member.pk)
    return redirect("merges")


@requires(can_read)
@require_safe
def audit(request: HttpRequest) -> HttpResponse:
    if not can_merge_members(request.user):
        raise PermissionDenied("Only managers and admins can read the audit log.")
    page = paginate(request, AuditEntry.objects.select_related("actor"))
    ids = {i for entry in page.object_list for i in entry.member_ids}
    names = dict(Member.objects.filter(id__in=ids).values_list("id", "display_name"))
    rows = [
        {
            "entry": entry,
            "members": [(i, names.get(i)) for i in entry.member_ids],
            "counts": sorted((entry.details.get("counts") or {}).items()),
        }
        for entry in page.object_list
    ]
    return render(
        request, "front/merge_audit.html", {"section": "members", "page": page, "rows": rows}
    )


def _active_member(member_id: int) -> Member:
    return get_object_or_404(
        Member.objects.filter(merged_into__isnull=True, erased_at__isnull=True), pk=member_id
    )


@requires(can_read)
def member_merge(request: HttpRequest, member_id: int) -> HttpResponse:
    """Search the member to merge into this one."""
    _staff_user(request)
    person = _active_member(member_id)
    q = request.GET.get("q", "").strip()
    results: list[Member] = []
    if q:
        results = list(
            queries.members(q=q, sort="interactions")
            .filter(merged_into__isnull=True, erased_at__isnull=True)
            .exclude(pk=person.pk)[:SEARCH_LIMIT]
        )
    context = {"section": "members", "member": person, "q": q, "results": results}
    return render(request, "front/merge_search.html", context)


@requires(can_read)
def member_merge_confirm(request: HttpRequest, member_id: int, other_id: int) -> HttpResponse:
    """Confirm, then merge the other member into this one."""
    user = _staff_user(request)
    person = _active_member(member_id)
    other = _active_member(other_id)
    if request.method == "POST":
        try:
            do_merge_members(
                target=person,
                others=[other],
                actor=user,
                reason=request.POST.get("reason", "").strip()[:1000] or "merged by hand",
            )
        except MergeError as e:
            messages.error(request, str(e))
            return redirect("member", person.pk)
        messages.success(request, f"{other.display_name} is now part of this member.")
        return redirect("member", person.pk)
    identities = {
        m.pk: list(m.identities.select_related("source").order_by("source__name", "id"))
        for m in (person, other)
    }
    context = {
        "section": "members",
        "member": person,
        "other": other,
        "member_identities": identities[person.pk],
        "other_identities": identities[other.pk],
    }
    return render(request, "front/merge_confirm.html", context)


@requires(can_read)
@require_POST
def member_unmerge(request: HttpRequest, member_id: int) -> HttpResponse:
    """Split an absorbed member out of the member it was merged into."""
    user = _staff_user(request)
    absorbed = get_object_or_404(Member, pk=member_id, merged_into__isnull=False)
    target_id = absorbed.merged_into_id
    try:
        do_unmerge_member(
            member=absorbed,
            actor=user,
            reason=request.POST.get("reason", "").strip()[:1000] or "unmerged by hand",
        )
    except MergeError as e:
        messages.error(request, str(e))
        return redirect("member", target_id)
    messages.success(request, f"{absorbed.display_name} is a member of their own again.")
    return redirect("member", absorbed.pk)


@requires(can_read)
@require_POST
def member_mark(request: HttpRequest, member_id: int) -> HttpResponse:
    user = _staff_user(request)
    person = _active_member(member_id)
    mark = request.POST.get("mark", "")
    if mark not in MARKS:
        messages.error(request, "Choose team, bot or do not contact.")
        return redirect("member", person.pk)
    value = request.POST.get("value") == "on"
    do_mark_member(member=person, actor=user, **{mark: value})
    return redirect("member", person.pk)
