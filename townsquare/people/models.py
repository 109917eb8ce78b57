"""What Townsquare derives about each person: their engagement level, kept between refreshes."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from townsquare.community.models import Member


class EngagementLevel(models.TextChoices):
    CORE = "core", "Core"
    ACTIVE = "active", "Active"
    CASUAL = "casual", "Casual"
    SILENT = "silent", "Silent"
    # First seen less than NEW_MEMBER_DAYS ago: too little history to call them silent.
    NEW = "new", "New"
    # Staff and bots are never ranked (docs/metrics.md, "Engagement level").
    UNRANKED = "unranked", "Not ranked"


class EngagementScore(models.Model):
    """A member's engagement score and level at the last refresh (community/engagement.py),
    with the figures that explain it."""

    member = models.OneToOneField(
        Member, models.CASCADE, primary_key=True, related_name="engagement"
    )
    score = models.FloatField(default=0.0)
    level = models.CharField(max_length=16, choices=EngagementLevel.choices)
    # The figures behind the level: recent counts per kind, rank, thresholds, the constants.
    explanation = models.JSONField(default=dict)
    # "Mostly negative" over the last 30 and 90 days and all time, as of `computed_at`
    # (community/engagement.py, `MOOD_WINDOWS`): the member list's sentiment filter reads these
    # flags, where counting everyone's labelled messages took seconds at 2,000,000 messages.
    negative_30_days = models.BooleanField(default=False)
    negative_90_days = models.BooleanField(default=False)
    negative_all_time = models.BooleanField(default=False)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The member list's engagement filter reads the level's members from the index
            # alone (member is the primary key, not SQLite's row id).
            models.Index(fields=["level", "member"], name="engagement_level_member"),
            # Few members are mostly negative: small partial indexes list them.
            models.Index(
                fields=["member"], condition=Q(negative_30_days=True), name="engagement_neg30"
            ),
            models.Index(
                fields=["member"], condition=Q(negative_90_days=True), name="engagement_neg90"
            ),
            models.Index(
                fields=["member"], condition=Q(negative_all_time=True), name="engagement_neg_all"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.level} ({self.score:.1f})"
