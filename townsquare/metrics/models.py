"""Rollup tables the metrics read instead of scanning every interaction (docs/metrics.md,
"Rollups"). They hold nothing of their own: `townsquare.metrics.rollups` recomputes them from
the interactions and their enrichment, for the days an import, the enrichment or an erasure
changed, and `townsquare metrics rebuild-rollups` for all of history."""

from __future__ import annotations

from django.db import models

from townsquare.community.models import Channel, Member, Source


class HourlyMessages(models.Model):
    """Messages (post, reply, comment, message, answer; every author) written in one UTC hour
    in one source and channel, with the sentiment counts of the pulse: what activity, the
    hour × weekday heatmap and the sentiment trend add up. The foreign keys behave as the
    interactions' do (a channel's deletion leaves its messages without a channel), so sums over
    rows stay right; a key may have several rows, never a missing one."""

    hour = models.DateTimeField()
    source = models.ForeignKey(Source, models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, models.SET_NULL, null=True, related_name="+")
    messages = models.PositiveIntegerField()
    # Messages with a supported sentiment label, those of them with a compound score, its sum,
    # the negative ones; messages labelled as in an unsupported language.
    supported = models.PositiveIntegerField()
    scored = models.PositiveIntegerField()
    sentiment_sum = models.FloatField()
    negative = models.PositiveIntegerField()
    unsupported = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["hour"], name="hourly_messages_hour")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00 channel {self.channel_id}: {self.messages}"


class DailyMemberActivity(models.Model):
    """Interactions of any kind of one member on one UTC day in one source and channel (known
    members only): the member metrics count distinct members and interactions per member from
    it. Staff and bots are left out when reading (their flags may change), and a merge recounts
    the rows of the members it moves, so a row names the member the interactions point at."""

    day = models.DateField()
    # No index of their own: the covering index below serves every read.
    source = models.ForeignKey(Source, models.CASCADE, related_name="+", db_index=False)
    channel = models.ForeignKey(
        Channel, models.SET_NULL, null=True, related_name="+", db_index=False
    )
    member = models.ForeignKey(Member, models.CASCADE, related_name="+", db_index=False)
    interactions = models.PositiveIntegerField()

    class Meta:
        indexes = [
            # Covers every read (a range of days): no table row is looked up.
            models.Index(
                fields=["day", "member", "channel", "source", "interactions"],
                name="daily_member_activity_day",
            ),
            # A member's days (their page's weekly counts, a merge's recount), from the index.
            models.Index(
                fields=["member", "day", "interactions"], name="daily_member_activity_days"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} member {self.member_id}: {self.interactions}"


class MonthlyMemberActivity(models.Model):
    """The daily rows summed per UTC calendar month (`month` is its first day): interactions
    per member over a year read a few rows per member instead of one per active day."""

    month = models.DateField()
    # No index of their own: the covering index below serves every read.
    source = models.ForeignKey(Source, models.CASCADE, related_name="+", db_index=False)
    channel = models.ForeignKey(
        Channel, models.SET_NULL, null=True, related_name="+", db_index=False
    )
    member = models.ForeignKey(Member, models.CASCADE, related_name="+", db_index=False)
    interactions = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["month", "member", "channel", "source", "interactions"],
                name="monthly_member_activity_month",
            ),
            # A member's months in a scope (retention), without a table row looked up.
            models.Index(
                fields=["member", "month", "channel", "source"],
                name="monthly_member_activity_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} member {self.member_id}: {self.interactions}"


class DailyKeywords(models.Model):
    """Analyzed messages (the message kinds, enrichment done) of one UTC day in one source and
    channel having one keyword: what the topics of a period add up. The row with the empty
    keyword counts all the analyzed messages, keywords or not: the topics' denominators."""

    day = models.DateField()
    source = models.ForeignKey(Source, models.CASCADE, related_name="+", db_index=False)
    channel = models.ForeignKey(
        Channel, models.SET_NULL, null=True, related_name="+", db_index=False
    )
    keyword = models.TextField()
    messages = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["day", "keyword", "channel", "source", "messages"],
                name="daily_keywords_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.keyword!r}: {self.messages}"


class MonthlyKeywords(models.Model):
    """The daily keyword rows summed per UTC calendar month (`month` is its first day)."""

    month = models.DateField()
    source = models.ForeignKey(Source, models.CASCADE, related_name="+", db_index=False)
    channel = models.ForeignKey(
        Channel, models.SET_NULL, null=True, related_name="+", db_index=False
    )
    keyword = models.TextField()
    messages = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["month", "keyword", "channel", "source", "messages"],
                name="monthly_keywords_month",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.keyword!r}: {self.messages}"


class MemberFirstSeen(models.Model):
    """The first UTC day a known member interacted (any kind) in one source and channel: a
    member's first interaction in a scope is the earliest of its rows there, what new members
    and retention cohorts are made of."""

    member = models.ForeignKey(Member, models.CASCADE, related_name="+")
    source = models.ForeignKey(Source, models.CASCADE, related_name="+", db_index=False)
    channel = models.ForeignKey(
        Channel, models.SET_NULL, null=True, related_name="+", db_index=False
    )
    first_day = models.DateField()

    def __str__(self) -> str:
        return f"member {self.member_id} first seen {self.first_day}"
