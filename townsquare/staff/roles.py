"""What role a user has, and whether it reaches a given one. Every permission check of the pages
and of the API ends here."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ObjectDoesNotExist

from townsquare.staff.models import ROLE_RANK, Role

AnyUser = AbstractBaseUser | AnonymousUser


def role_of(user: AnyUser) -> Role | None:
    """The user's role, or None for anonymous, inactive and role-less users."""
    if not user.is_authenticated or not user.is_active:
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    try:
        # The reverse one-to-one is cached on the user object: one query per request at most.
        return Role(user.staff_role.role)  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return None


def has_role(user: AnyUser, minimum: Role) -> bool:
    """Whether the user's role is `minimum` or above it."""
    role = role_of(user)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[minimum]
