"""The staff page: who may use Townsquare, with which role, and every change made to that.
Admins only."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from townsquare.front.access import can_manage_staff, requires
from townsquare.staff.forms import AddStaffForm, RoleForm
from townsquare.staff.models import ROLE_SUMMARY, Role
from townsquare.staff.queries import latest_changes, staff_members
from townsquare.staff.services import do_add_staff, do_set_active, do_set_role


def _page(
    request: HttpRequest,
    *,
    add_form: AddStaffForm | None = None,
    row_error: tuple[int, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page; `row_error` is (user id, message) for a change that was refused."""
    context = {
        "section": "staff",
        "members": staff_members(),
        "roles": Role.choices,
        "role_summary": [(role.label, summary) for role, summary in ROLE_SUMMARY.items()],
        "add_form": add_form or AddStaffForm(),
        "changes": latest_changes(),
        "error_user_id": row_error[0] if row_error else None,
        "error_message": row_error[1] if row_error else "",
    }
    return render(request, "staff/staff.html", context, status=status)


@requires(can_manage_staff)
@require_safe
def staff(request: HttpRequest) -> HttpResponse:
    """Every user with their role, the forms to change them, and the latest changes."""
    return _page(request)


@requires(can_manage_staff)
@require_POST
def add(request: HttpRequest) -> HttpResponse:
    """Add a staff member with a password and a role."""
    form = AddStaffForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user = do_add_staff(
                username=data["username"],
                email=data["email"],
                role=data["role"],
                password=data["password1"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as e:
            form.add_error(None, e)
        else:
            messages.success(request, f"Added {user.username} as {Role(data['role']).label}.")
            return redirect("staff")
    return _page(request, add_form=form, status=400)


def _change(
    request: HttpRequest, user: User, change: Callable[[], None], done: str
) -> HttpResponse:
    """Make a change; a refusal is shown on the user's row."""
    try:
        change()
    except ValidationError as e:
        return _page(request, row_error=(user.pk, " ".join(e.messages)), status=400)
    messages.success(request, done)
    return redirect("staff")


@requires(can_manage_staff)
@require_POST
def role(request: HttpRequest, user_id: int) -> HttpResponse:
    """Give a user a role, change it, or take it away (an empty role)."""
    user = get_object_or_404(User, pk=user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _page(request, row_error=(user.pk, "Choose one of the roles."), status=400)
    new = form.cleaned_data["role"] or None
    done = (
        f"{user.username}'s role is now {Role(new).label}."
        if new
        else f"Took {user.username}'s role away: they see nothing until given one."
    )
    by: User = request.user  # type: ignore[assignment]
    return _change(request, user, lambda: do_set_role(user=user, role=new, by=by), done)


@requires(can_manage_staff)
@require_POST
def active(request: HttpRequest, user_id: int) -> HttpResponse:
    """Deactivate an account (it keeps its role for later) or reactivate it."""
    user = get_object_or_404(User, pk=user_id)
    make_active = request.POST.get("active") == "1"
    done = (
        f"Reactivated {user.username}."
        if make_active
        else f"Deactivated {user.username}: they can no longer log in or use their API tokens."
    )
    by: User = request.user  # type: ignore[assignment]
    return _change(request, user, lambda: do_set_active(user=user, active=make_active, by=by), done)
