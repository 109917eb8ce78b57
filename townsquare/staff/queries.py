"""Who is on the staff, for the staff page and `townsquare staff list`."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models.functions import Lower

from townsquare.staff.models import Role, StaffChange


@dataclass(frozen=True)
class StaffMember:
    """A user with the role they hold, whether or not their account is active."""

    user: User
    # Superusers are admins without a row; None: no role, they see nothing.
    role: Role | None

    @property
    def description(self) -> str:
        """The role in words, as `townsquare staff list` prints it."""
        words = [self.role.value if self.role else "no role"]
        if self.user.is_superuser:
            words.append("superuser")
        if not self.user.is_active:
            words.append("inactive")
        return ", ".join(words)


def staff_members() -> list[StaffMember]:
    """Every user, by username, with their role: one query."""
    users = User.objects.select_related("staff_role").order_by(Lower("username"), "pk")
    return [StaffMember(user, _held_role(user)) for user in users]


def _held_role(user: User) -> Role | None:
    if user.is_superuser:
        return Role.ADMIN
    # select_related caches a missing row as None, and the attribute then raises.
    held = getattr(user, "staff_role", None)
    return Role(held.role) if held is not None else None


def latest_changes(limit: int = 50) -> list[StaffChange]:
    return list(StaffChange.objects.all()[:limit])
