"""What every template knows of the signed-in user's role."""

from __future__ import annotations

from django.http import HttpRequest

from townsquare.staff.models import Role
from townsquare.staff.roles import has_role, role_of


def user_role(request: HttpRequest) -> dict[str, Role | bool | None]:
    """`user_role`: "viewer", "moderator", "manager", "admin", or None (anonymous, inactive, no
    role). Templates hide what the user may not use, e.g. `{% if user_role == "admin" %}`; the
    views still check. `can_moderate`: whether they may read what a moderator hid
    (townsquare/moderation/visibility.py); a template rendered without a request (an email)
    has no such variable, so hides it."""
    user = getattr(request, "user", None)
    if user is None:
        return {"user_role": None, "can_moderate": False}
    # The role is read once per request and kept on the user: no second query.
    return {"user_role": role_of(user), "can_moderate": has_role(user, Role.MODERATOR)}
