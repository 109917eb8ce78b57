"""Staff roles. A signed-in user without a role sees nothing but a page saying so: access is
granted, never assumed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


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


class StaffChange(models.Model):
    """One change to the staff: an account added, a role given, changed or taken away, an
    account deactivated or reactivated. Names are copied, so the record outlives the users."""

    class Action(models.TextChoices):
        ADDED = "added", "Added"
        ROLE = "role", "Role changed"
        DEACTIVATED = "deactivated", "Deactivated"
        REACTIVATED = "reactivated", "Reactivated"

    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Empty: the change came from the command line.
    by_name = models.CharField(max_length=150, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="staff_changes"
    )
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=20, choices=Action.choices)
    # A role, "" for no role; or "active" / "inactive".
    before = models.CharField(max_length=20, blank=True)
    after = models.CharField(max_length=20, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.by_name or 'command line'}: {self.username} {self.summary}"

    @property
    def summary(self) -> str:
        """What changed, in words: "role manager → moderator", "added as viewer"."""
        if self.action == self.Action.ADDED:
            return f"added as {self.after}"
        if self.action == self.Action.ROLE:
            return f"role {self.before or 'none'} → {self.after or 'none'}"
        return self.get_action_display().lower()
