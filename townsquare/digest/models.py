"""The weekly digest: one row per week with what `content.build_digest` gathered, and the
staff who asked not to get it by email."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Digest(models.Model):
    """One week's digest for staff, as built and (once) mailed."""

    # The week's Monday in the community's time zone: one digest per week.
    week_start = models.DateField(unique=True)
    # build_digest's plain data (docs/digest.md); frozen once the digest was mailed.
    content = models.JSONField()
    built_at = models.DateTimeField()
    # Set when the mailing was claimed: a digest is never mailed twice.
    sent_at = models.DateTimeField(null=True, blank=True)
    recipient_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-week_start"]

    def __str__(self) -> str:
        return f"digest of the week of {self.week_start:%Y-%m-%d}"


class DigestOptOut(models.Model):
    """A staff user who asked not to get the digest by email; the pages stay open to them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="digest_opt_out"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} gets no digest email"
