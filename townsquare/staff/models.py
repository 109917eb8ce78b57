"""Staff roles. A signed-in user without a role sees nothing but a page saying so: access is
granted, never assumed."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    # Ordered from least to most: each role can do everything the ones before it can.
    VIEWER = "viewer", "Viewer"
    MODERATOR = "moderator", "Moderator"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"


ROLE_RANK = {role: rank for rank, role in enumerate(Role)}

ROLE_SUMMARY = {
    Role.VIEWER: "Reads every page and the API; changes nothing.",
    Role.MODERATOR: "A viewer who also reviews flagged messages and corrects labels.",
    Role.MANAGER: (
        "A moderator who also works the care queue and the inbox, writes members' memory, "
        "merges members, imports exports and changes the settings."
    ),
    Role.ADMIN: "A manager who also manages staff and handles privacy requests.",
}


class StaffRole(models.Model):
    """The role of one user. Superusers are admins without a row."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="staff_role")
    role = models.CharField(max_length=20, choices=Role.choices)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"
