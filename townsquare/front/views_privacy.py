"""A member's data on request, from their page: download everything as JSON, or erase it.

Both are POSTs: each writes an audit entry, and an erasure cannot be undone, so neither may
happen from a link followed or an image loaded. The erasure asks to type the member's id (or
ERASE) first, so a slip of the mouse erases nobody.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from townsquare.community.models import Member
from townsquare.community.privacy import do_erase_member, do_export_member
from townsquare.front.access import can_handle_privacy_requests, can_read, requires


def member_privacy(request: HttpRequest) -> dict[str, Any]:
    """The member page's context for its "Export data" and "Erase…" actions."""
    return {"can_handle_privacy": can_handle_privacy_requests(request.user)}


class EraseForm(forms.Form):
    confirm = forms.CharField(
        label="Type the member's id or ERASE to confirm", max_length=40, strip=True
    )
    reason = forms.CharField(
        label="Reason (kept in the audit log; names in it are removed)",
        required=False,
        max_length=500,
        widget=forms.TextInput,
    )

    def __init__(self, *args: Any, member: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.member = member

    def clean_confirm(self) -> str:
        value: str = self.cleaned_data["confirm"]
        if value not in (str(self.member.pk), "ERASE"):
            raise forms.ValidationError(
                f"Type {self.member.pk} or ERASE exactly, to show this is the member you mean."
            )
        return value


def _require_permission(request: HttpRequest) -> User:
    user = request.user
    if not can_handle_privacy_requests(user) or not isinstance(user, User):
        raise PermissionDenied("Only admins can export or erase a member's data.")
    return user


@requires(can_read)
@require_POST
def member_export(request: HttpRequest, member_id: int) -> HttpResponse:
    user = _require_permission(request)
    person = get_object_or_404(Member, pk=member_id)
    data = do_export_member(member=person, actor=user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="member-{person.pk}.json"'
    # Personal data: no copy in any cache along the way.
    response["Cache-Control"] = "no-store"
    return response


@requires(can_read)
@require_http_methods(["GET", "POST"])
def member_erase(request: HttpRequest, member_id: int) -> HttpResponse:
    user = _require_permission(request)
    person = get_object_or_404(Member, pk=member_id)
    form = EraseForm(request.POST or None, member=person)
    if request.method == "POST" and form.is_valid():
        erasure = do_erase_member(member=person, actor=user, reason=form.cleaned_data["reason"])
        others = len(erasure.member_ids) - 1
        merged = f", with the {others} merged into it" if others else ""
        messages.success(
            request,
            f"Member #{person.pk}{merged} erased: names, handles, emails and message texts are "
            "gone; their activity still counts, anonymously.",
        )
        return HttpResponseRedirect(reverse("member", args=[person.pk]))
    context = {
        "section": "members",
        "member": person,
        "merged_count": person.merged_members.count(),
        "form": form,
    }
    return render(
        request,
        "front/privacy_erase.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


urlpatterns = [
    path("members/<int:member_id>/export/", member_export, name="member_export"),
    path("members/<int:member_id>/erase/", member_erase, name="member_erase"),
]
