"""Changing who is on the staff, and with which role."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from townsquare.staff.models import Role, StaffRole


def _admins_besides(user: User) -> bool:
    others = User.objects.filter(is_active=True).exclude(pk=user.pk)
    return (
        others.filter(is_superuser=True).exists()
        or others.filter(staff_role__role=Role.ADMIN).exists()
    )


@transaction.atomic
def do_set_role(*, user: User, role: Role | str | None) -> None:
    """Give the user a role, or take it away with None. The last active admin cannot lose the
    role: someone must always be able to manage the staff."""
    if role is not None and role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}: expected one of {', '.join(Role.values)}.")
    current = StaffRole.objects.select_for_update().filter(user=user).first()
    was_admin = user.is_superuser or (current is not None and current.role == Role.ADMIN)
    if was_admin and role != Role.ADMIN and not user.is_superuser and not _admins_besides(user):
        raise ValidationError(f"{user.username} is the last admin: name another admin first.")
    if role is None:
        StaffRole.objects.filter(user=user).delete()
    else:
        StaffRole.objects.update_or_create(user=user, defaults={"role": role})


@transaction.atomic
def do_add_staff(*, username: str, email: str, role: Role | str, password: str | None) -> User:
    """Create a user with a role. Without a password the account cannot sign in until one is
    set (`townsquare changepassword USERNAME`)."""
    username = username.strip()
    if not username:
        raise ValidationError("A username is required.")
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(f"There is already a user named {username}.")
    user = User.objects.create_user(username, email.strip(), password)
    do_set_role(user=user, role=role)
    return user
