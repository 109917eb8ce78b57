"""Who may use the API. Every permission check of the API goes through these two functions, so
roles (admin, manager, moderator, viewer: coming later) change this one place."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


def can_read_api(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may read members, identities, notes, touchpoints and knowledge."""
    return bool(user.is_active and getattr(user, "is_staff", False))


def can_write_api(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may change members and add notes, touchpoints and knowledge."""
    return bool(user.is_active and getattr(user, "is_staff", False))
