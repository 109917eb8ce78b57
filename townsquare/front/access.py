"""Who may change what. Every permission check of the pages goes through these helpers, so
roles (coming later) change one place."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


def _is_staff(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_active and getattr(user, "is_staff", False))


def can_correct_labels(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may correct the automatic labels of a message."""
    return _is_staff(user)


def can_manage_terms(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may add, pause and resume tracked terms."""
    return _is_staff(user)
