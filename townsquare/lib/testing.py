"""Helpers for tests: named staff personas and a one-call import."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from django.contrib.auth.models import User

from townsquare.connectors.models import ImportRun
from townsquare.connectors.services import do_import
from townsquare.staff.models import Role, StaffRole


def import_export(
    format: str, path: Path, *, source: str | None = None, options: Mapping[str, str] | None = None
) -> ImportRun:
    """Import an export through the real importer and writer, as the CLI does."""
    return do_import(format=format, path=path, source_name=source, options=options)


def make_staff(
    username: str, *, superuser: bool = False, staff: bool = True, role: str | None = None
) -> User:
    """Alice is an admin (superuser), Bob a manager on her team, Vera a viewer
    (`role="viewer"`), Charlie an outsider with no staff role: `make_staff("charlie",
    staff=False)`."""
    user = User.objects.create_user(username, f"{username}@example.org", "password")
    user.is_staff = staff or superuser
    user.is_superuser = superuser
    user.save()
    if staff and not superuser:
        StaffRole.objects.create(user=user, role=role or Role.MANAGER)
    return user
