"""Who may change what. Every permission check of the pages goes through these helpers, so
roles (coming later) change one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

if TYPE_CHECKING:
    from townsquare.community.models import Note


def _is_staff(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_active and getattr(user, "is_staff", False))


def can_correct_labels(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may correct the automatic labels of a message."""
    return _is_staff(user)


def can_manage_terms(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may add, pause and resume tracked terms."""
    return _is_staff(user)


def can_write_memory(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may add to a member's memory: notes, touchpoints, what they taught us,
    tags and custom fields."""
    return _is_staff(user)


def can_change_note(user: AbstractBaseUser | AnonymousUser, note: Note) -> bool:
    """Whether the user may edit or delete a note: only its author, while they are staff."""
    return _is_staff(user) and note.author_id is not None and note.author_id == user.pk


def can_edit_members(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may tag members in bulk and save, rename and delete segments."""
    return _is_staff(user)


def can_export_members(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may download the member list as CSV (personal data: names, emails)."""
    return _is_staff(user)


def can_merge_members(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may merge and unmerge members, decide merge suggestions, mark members
    as team, bot or do-not-contact, and read the audit log."""
    return _is_staff(user)


def can_handle_privacy_requests(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may export everything about a member, or erase their personal data."""
    return _is_staff(user)
