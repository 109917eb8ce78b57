"""Changing who is on the staff, and with which role. Every change is recorded as a
`StaffChange`; `by` is the admin who made it, None for the command line."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from townsquare.staff.models import Role, StaffChange, StaffRole
from townsquare.staff.roles import role_of


def _admins_besides(user: User) -> bool:
    others = User.objects.filter(is_active=True).exclude(pk=user.pk)
    return (
        others.filter(is_superuser=True).exists()
        or others.filter(staff_role__role=Role.ADMIN).exists()
    )


def _record(
    *, by: User | None, user: User, action: StaffChange.Action, before: str, after: str
) -> None:
    StaffChange.objects.create(
        by=by,
        by_name=by.get_username() if by is not None else "",
        user=user,
        username=user.get_username(),
        action=action,
        before=before,
        after=after,
    )


def _apply_role(user: User, role: Role | str | None) -> str:
    """Store the role (None: take it away) and return the one the user had, "" for none."""
    if role is not None and role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}: expected one of {', '.join(Role.values)}.")
    if user.is_superuser:
        raise ValidationError(
            f"{user.username} is a superuser, and so always an admin: take superuser status "
            "away in the admin site first."
        )
    current = StaffRole.objects.select_for_update().filter(user=user).first()
    was_admin = current is not None and current.role == Role.ADMIN
    if was_admin and role != Role.ADMIN and not _admins_besides(user):
        raise ValidationError(f"{user.username} is the last admin: name another admin first.")
    if role is None:
        StaffRole.objects.filter(user=user).delete()
    else:
        StaffRole.objects.update_or_create(user=user, defaults={"role": role})
    return current.role if current is not None else ""


@transaction.atomic
def do_set_role(*, user: User, role: Role | str | None, by: User | None = None) -> None:
    """Give the user a role, or take it away with None. The last active admin cannot lose the
    role: someone must always be able to manage the staff."""
    before = _apply_role(user, role)
    after = str(role or "")
    if before != after:
        _record(by=by, user=user, action=StaffChange.Action.ROLE, before=before, after=after)


@transaction.atomic
def do_add_staff(
    *, username: str, email: str, role: Role | str, password: str | None, by: User | None = None
) -> User:
    """Create a user with a role. Without a password the account cannot sign in until one is
    set (`townsquare changepassword USERNAME`)."""
    username = username.strip()
    if not username:
        raise ValidationError("A username is required.")
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(f"There is already a user named {username}.")
    user = User.objects.create_user(username, email.strip(), password)
    _apply_role(user, role)
    _record(by=by, user=user, action=StaffChange.Action.ADDED, before="", after=str(role))
    return user


@transaction.atomic
def do_set_active(*, user: User, active: bool, by: User | None = None) -> None:
    """Deactivate an account (it can no longer sign in or use its API tokens; its role is kept
    for when it comes back) or reactivate it. Nobody deactivates themselves or the last admin."""
    if user.is_active == active:
        return
    if not active and by is not None and by.pk == user.pk:
        raise ValidationError("You cannot deactivate your own account.")
    if not active and role_of(user) == Role.ADMIN and not _admins_besides(user):
        raise ValidationError(f"{user.username} is the last admin: name another admin first.")
    user.is_active = active
    user.save(update_fields=["is_active"])
    action = StaffChange.Action.REACTIVATED if active else StaffChange.Action.DEACTIVATED
    before, after = ("inactive", "active") if active else ("active", "inactive")
    _record(by=by, user=user, action=action, before=before, after=after)
