from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from townsquare.staff.models import Role
from townsquare.staff.queries import staff_members
from townsquare.staff.services import do_add_staff, do_set_role

ROLES = ", ".join(Role.values)


class Command(BaseCommand):
    help = (
        f"List the staff, add a staff member, change or take away a role ({ROLES}). "
        "Every change is recorded on the staff page."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("list", help="every user with their role and last login")
        add = actions.add_parser("add", help="create a user with a role (then set a password)")
        add.add_argument("username")
        add.add_argument("--role", required=True, help=ROLES)
        add.add_argument("--email", default="")
        role = actions.add_parser("role", help="give a user a role, or change it")
        role.add_argument("username")
        role.add_argument("role", help=ROLES)
        remove = actions.add_parser("remove", help="take a user's role away (they see nothing)")
        remove.add_argument("username")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            if opts["action"] == "list":
                self._list()
            elif opts["action"] == "add":
                self._add(opts["username"], opts["role"], opts["email"])
            elif opts["action"] == "role":
                self._set_role(opts["username"], opts["role"])
            else:
                self._remove(opts["username"])
        except ValidationError as e:
            raise CommandError(" ".join(e.messages), returncode=2) from None

    def _list(self) -> None:
        members = staff_members()
        if not members:
            self.stdout.write("No users. Add one: townsquare staff add USERNAME --role ROLE")
        for member in members:
            user = member.user
            login = f"{user.last_login:%Y-%m-%d %H:%M}" if user.last_login else "never"
            email = f" <{user.email}>" if user.email else ""
            self.stdout.write(f"{user.username}{email}: {member.description}; last login {login}")

    def _add(self, username: str, role: str, email: str) -> None:
        user = do_add_staff(username=username, email=email, role=_parse_role(role), password=None)
        self.stdout.write(f"Added {user.username} as {role}.")
        self.stdout.write(
            f"They cannot log in until they have a password: townsquare changepassword "
            f"{user.username}"
        )

    def _set_role(self, username: str, role: str) -> None:
        user = _user(username)
        do_set_role(user=user, role=_parse_role(role))
        self.stdout.write(f"{user.username} is now {role}.")

    def _remove(self, username: str) -> None:
        user = _user(username)
        do_set_role(user=user, role=None)
        self.stdout.write(f"Took {user.username}'s role away: they see nothing until given one.")


def _user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"no user named {username!r}", returncode=2)
    return user


def _parse_role(name: str) -> Role:
    if name not in Role.values:
        raise CommandError(f"unknown role {name!r}: expected one of {ROLES}", returncode=2)
    return Role(name)
