"""What listening derives from interactions: enrichments, people's corrections, thanks, terms."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from townsquare.community.models import Interaction, Member


class SentimentLabel(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"
    # The analyzer cannot judge this language: counted apart, never a fake neutral.
    UNSUPPORTED = "unsupported", "Unsupported language"
    # No words to judge: a reaction, a join, a vote, an empty message.
    NONE = "", "Not analyzed"


class Enrichment(models.Model):
    """What the analyzers found in one interaction, in wide columns for fast reports."""

    interaction = models.OneToOneField(
        Interaction, models.CASCADE, primary_key=True, related_name="enrichment"
    )
    # Copied from interaction.member, as that is from its identity's: the member list's "wrote
    # in language" reads one index instead of every member's messages. The pipeline writes it,
    # merges move it with the interactions (community/services.py).
    member = models.ForeignKey(
        Member, models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    # False for a message with no words of its own (an empty text, a mail that only quotes):
    # it gets a row, so "no row" means "never enriched", but no labels. Interactions of kinds
    # without words (reactions, joins, votes) get no row at all (listening/pipeline.py).
    analyzed = models.BooleanField(default=False)
    language = models.CharField(max_length=8, null=True, blank=True)
    language_confidence = models.FloatField(default=0.0)
    # VADER's compound, -1..1; None when the language is unsupported or nothing was analyzed.
    sentiment = models.FloatField(null=True, blank=True)
    sentiment_label = models.CharField(
        max_length=12, choices=SentimentLabel.choices, blank=True, default=""
    )
    is_question = models.BooleanField(default=False)
    question_score = models.FloatField(default=0.0)
    is_gratitude = models.BooleanField(default=False)
    emotion = models.CharField(max_length=32, blank=True, default="")
    emotion_scores = models.JSONField(default=dict, blank=True)
    toxicity = models.FloatField(default=0.0)
    is_toxic = models.BooleanField(default=False)
    spam = models.FloatField(default=0.0)
    is_spam = models.BooleanField(default=False)
    keywords = models.JSONField(default=list, blank=True)
    # analyzer name -> version that produced this row (plus the pipeline's own version)
    versions = models.JSONField(default=dict, blank=True)
    # A digest of every current version: a row whose key differs is stale and gets redone.
    # Not indexed: staleness compares it with `<>` walking the interactions (pipeline.find_stale),
    # which no index serves, and an index would cost every upsert.
    version_key = models.CharField(max_length=16)
    # The interaction's content digest when enriched: an edited message is enriched again.
    content_hash = models.CharField(max_length=32, blank=True, default="")
    # The fields a person corrected: the pipeline keeps their value over the analyzers'.
    corrected = models.JSONField(default=list, blank=True)
    enriched_at = models.DateTimeField()

    class Meta:
        # Few and partial indexes: each one slows the upserts of enrichment (measured: all
        # of a plain set doubled their cost on SQLite). Counts per label or language scan by
        # time through the interaction anyway; what reports list are the rare flagged rows.
        indexes = [
            models.Index(
                fields=["interaction"],
                condition=Q(sentiment_label="negative"),
                name="enrichment_negative",
            ),
            models.Index(
                fields=["interaction"], condition=Q(is_question=True), name="enrichment_question"
            ),
            models.Index(
                fields=["interaction"], condition=Q(is_toxic=True), name="enrichment_toxic"
            ),
            models.Index(fields=["interaction"], condition=Q(is_spam=True), name="enrichment_spam"),
            # The member list's "wrote in language": who wrote in it, from the index alone
            # (docs/benchmarks.md, "Member pages").
            models.Index(
                fields=["language", "member"],
                condition=Q(language__isnull=False),
                name="enrichment_language_member",
            ),
        ]

    def __str__(self) -> str:
        return f"enrichment of {self.interaction_id}"


class CorrectableField(models.TextChoices):
    SENTIMENT_LABEL = "sentiment_label", "Sentiment"
    IS_TOXIC = "is_toxic", "Toxic"
    IS_SPAM = "is_spam", "Spam"
    IS_QUESTION = "is_question", "Question"
    LANGUAGE = "language", "Language"
    EMOTION = "emotion", "Emotion"


class LabelCorrection(models.Model):
    """A person's correction of one automatic label; the latest per field wins, for good."""

    interaction = models.ForeignKey(Interaction, models.CASCADE, related_name="+")
    field = models.CharField(max_length=32, choices=CorrectableField.choices)
    value = models.JSONField()
    # What the analyzers had said, kept to measure them and to train the next version.
    previous = models.JSONField(null=True, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["interaction", "field", "created_at"], name="correction_latest"),
            models.Index(fields=["field", "created_at"], name="correction_field"),
        ]

    def __str__(self) -> str:
        return f"{self.field}={self.value!r} on {self.interaction_id}"


class Thanks(models.Model):
    """One member thanking another in a message: the author replied to, or the one mentioned."""

    interaction = models.ForeignKey(Interaction, models.CASCADE, related_name="+")
    from_member = models.ForeignKey(Member, models.CASCADE, related_name="thanks_given")
    to_member = models.ForeignKey(Member, models.CASCADE, related_name="thanks_received")
    # The message's time, so "thanked this month" needs no join.
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["interaction", "to_member"], name="thanks_once"),
            models.CheckConstraint(
                condition=~Q(from_member=models.F("to_member")), name="thanks_not_self"
            ),
        ]
        indexes = [
            models.Index(fields=["to_member", "created_at"], name="thanks_to_time"),
            models.Index(fields=["from_member", "created_at"], name="thanks_from_time"),
        ]
        verbose_name_plural = "thanks"

    def __str__(self) -> str:
        return f"{self.from_member_id} thanked {self.to_member_id}"


class TermKind(models.TextChoices):
    KEYWORD = "keyword", "Keyword"
    BRAND = "brand", "Brand"
    HASHTAG = "hashtag", "Hashtag"


class TrackedTerm(models.Model):
    """A keyword, brand or hashtag the team wants to see every mention of."""

    term = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=TermKind.choices, default=TermKind.KEYWORD)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["term", "kind"], name="tracked_term_unique")]
        ordering = ["term"]

    def __str__(self) -> str:
        return self.term


class TermMatch(models.Model):
    """An interaction that mentions a tracked term."""

    term = models.ForeignKey(TrackedTerm, models.CASCADE, related_name="matches")
    interaction = models.ForeignKey(Interaction, models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["term", "interaction"], name="term_match_once")
        ]
        indexes = [models.Index(fields=["interaction"], name="term_match_interaction")]
        verbose_name_plural = "term matches"

    def __str__(self) -> str:
        return f"{self.term_id} in {self.interaction_id}"


class AlertMetric(models.TextChoices):
    VOLUME = "volume", "Volume"
    NEGATIVE_SHARE = "negative_share", "Negative share"
    TOXIC_SHARE = "toxic_share", "Toxic share"


class Alert(models.Model):
    """A spike: one day's value of a channel's metric above its trailing norm (docs/metrics.md)."""

    # Alerts of a deleted channel go with it; no channel means the whole community.
    channel = models.ForeignKey(
        "community.Channel", models.CASCADE, null=True, blank=True, related_name="+"
    )
    metric = models.CharField(max_length=32, choices=AlertMetric.choices)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    value = models.FloatField()
    # The trailing norm the value was compared with, and the k used: the alert explains itself.
    mean = models.FloatField()
    std = models.FloatField()
    k = models.FloatField()
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # A re-run of the check never alerts twice for the same window.
            models.UniqueConstraint(
                fields=["channel", "metric", "window_start"], name="alert_once_per_window"
            )
        ]
        indexes = [models.Index(fields=["window_start", "id"], name="alert_newest")]
        ordering = ["-window_start", "-id"]

    def __str__(self) -> str:
        return self.message
