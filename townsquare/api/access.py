"""Who may use the API. Every permission check of the API goes through these functions, which
ask the staff roles (townsquare/staff): viewer < moderator < manager < admin."""

from __future__ import annotations

from townsquare.staff.models import Role
from townsquare.staff.roles import AnyUser, has_role


def can_read_api(user: AnyUser) -> bool:
    """Whether the user may read through the API: every role may."""
    return has_role(user, Role.VIEWER)


def can_write_api(user: AnyUser) -> bool:
    """Whether the user may change members and segments and add notes, touchpoints and
    knowledge: managers and admins."""
    return has_role(user, Role.MANAGER)


def can_moderate_api(user: AnyUser) -> bool:
    """Whether the user may act on moderation items: moderators and above."""
    return has_role(user, Role.MODERATOR)
