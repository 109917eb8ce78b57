"""Who may do what. Every permission check of the pages goes through these helpers, which ask
the staff roles (townsquare/staff): viewer < moderator < manager < admin."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse

from townsquare.staff.models import Role
from townsquare.staff.roles import AnyUser, has_role

if TYPE_CHECKING:
    from townsquare.community.models import Note

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def can_read(user: AnyUser) -> bool:
    """Whether the user may read the pages: every role may."""
    return has_role(user, Role.VIEWER)


def can_correct_labels(user: AnyUser) -> bool:
    """Whether the user may correct the automatic labels of a message."""
    return has_role(user, Role.MODERATOR)


def can_moderate(user: AnyUser) -> bool:
    """Whether the user may act on flagged messages: approve, hide, escalate, false positive."""
    return has_role(user, Role.MODERATOR)


def can_decide_escalations(user: AnyUser) -> bool:
    """Whether the user may decide a flagged message escalated to the admins, or send it back
    to the queue."""
    return has_role(user, Role.ADMIN)


def can_manage_terms(user: AnyUser) -> bool:
    """Whether the user may add, pause and resume tracked terms."""
    return has_role(user, Role.MANAGER)


def can_work_care(user: AnyUser) -> bool:
    """Whether the user may work the care queue and the inbox: assign, snooze, resolve, dismiss,
    claim conversations and mark them answered."""
    return has_role(user, Role.MANAGER)


def can_change_settings(user: AnyUser) -> bool:
    """Whether the user may change SLAs, languages, rule weights, watched words and saved
    replies."""
    return has_role(user, Role.MANAGER)


def can_import(user: AnyUser) -> bool:
    """Whether the user may upload an export to import."""
    return has_role(user, Role.MANAGER)


def can_write_memory(user: AnyUser) -> bool:
    """Whether the user may add to a member's memory: notes, touchpoints, what they taught us,
    tags and custom fields."""
    return has_role(user, Role.MANAGER)


def can_change_note(user: AnyUser, note: Note) -> bool:
    """Whether the user may edit or delete a note: only its author, while they are a manager."""
    return can_write_memory(user) and note.author_id is not None and note.author_id == user.pk


def can_edit_members(user: AnyUser) -> bool:
    """Whether the user may tag members in bulk and save, rename and delete segments."""
    return has_role(user, Role.MANAGER)


def can_export_members(user: AnyUser) -> bool:
    """Whether the user may download the member list as CSV (personal data: names, emails)."""
    return has_role(user, Role.MANAGER)


def can_merge_members(user: AnyUser) -> bool:
    """Whether the user may merge and unmerge members, decide merge suggestions, mark members
    as team, bot or do-not-contact, and read the audit log."""
    return has_role(user, Role.MANAGER)


def can_handle_privacy_requests(user: AnyUser) -> bool:
    """Whether the user may export everything about a member, or erase their personal data."""
    return has_role(user, Role.ADMIN)


def can_manage_webhooks(user: AnyUser) -> bool:
    """Whether the user may see and change outbound webhooks: their URLs, signing secrets and
    delivery logs."""
    return has_role(user, Role.MANAGER)


def can_manage_staff(user: AnyUser) -> bool:
    """Whether the user may add staff and change their roles."""
    return has_role(user, Role.ADMIN)


def requires(check: Callable[[AnyUser], bool]) -> Callable[[View], View]:
    """Decorate a view: anonymous visitors go to the login page; signed-in users who fail the
    check get a 403 page that says which access they lack."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                return forbidden(request, check)
            return view(request, *args, **kwargs)

        wrapper.requires = check  # type: ignore[attr-defined]  # read by the access tests
        return wrapper  # type: ignore[return-value]

    return decorate


def forbidden(request: HttpRequest, check: Callable[[AnyUser], bool]) -> HttpResponse:
    """The 403 page: what the user lacks, in words."""
    needed = (check.__doc__ or "").strip().removeprefix("Whether the user may ").rstrip(".")
    reason = f"Your role does not let you {needed}."
    return _forbidden_page(request, reason)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The project's handler403: views raise PermissionDenied with a sentence that says who
    may do what they tried."""
    return _forbidden_page(request, str(exception or "") or "You may not do this.")


def _forbidden_page(request: HttpRequest, reason: str) -> HttpResponse:
    response = TemplateResponse(
        request,
        "front/forbidden.html",
        {"reason": reason, "has_role": can_read(request.user)},
        status=403,
    )
    return response.render()
