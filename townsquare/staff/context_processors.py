"""What every template knows of the signed-in user's role."""

from __future__ import annotations

from django.http import HttpRequest

from townsquare.staff.models import Role
from townsquare.staff.roles import role_of


def user_role(request: HttpRequest) -> dict[str, Role | None]:
    """`user_role`: "viewer", "moderator", "manager", "admin", or None (anonymous, inactive, no
    role). Templates hide what the user may not use, e.g. `{% if user_role == "admin" %}`; the
    views still check."""
    user = getattr(request, "user", None)
    return {"user_role": role_of(user) if user is not None else None}
