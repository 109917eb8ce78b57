"""Moderation: the review queue of flagged messages, the words staff watch for, and the audit
log of every decision."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from townsquare.community.models import Interaction


class WatchedWordAction(models.TextChoices):
    FLAG = "flag", "Flag for review"
    REVIEW = "review", "Require review"
    TAG = "tag", "Tag only"


class WatchedWord(models.Model):
    """A word or phrase staff watch for: matched as a whole word, ignoring case, like a tracked
    term; a match flags the message, flags it as requiring review, or only tags it."""

    term = models.CharField(max_length=200)
    action = models.CharField(
        max_length=16, choices=WatchedWordAction.choices, default=WatchedWordAction.FLAG
    )
    # The tag a match puts on the message (action `tag` only).
    tag = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("term"), name="watched_word_unique")]
        ordering = ["term"]

    def __str__(self) -> str:
        return self.term


class MessageTag(models.Model):
    """A tag a watched word (action `tag`) put on a message."""

    word = models.ForeignKey(WatchedWord, models.CASCADE, related_name="tagged")
    interaction = models.ForeignKey(Interaction, models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["word", "interaction"], name="message_tag_once")
        ]
        indexes = [models.Index(fields=["interaction"], name="message_tag_interaction")]

    def __str__(self) -> str:
        return f"{self.word_id} on {self.interaction_id}"


class ModerationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    HIDDEN = "hidden", "Hidden"
    # Handed to the admins: only an admin decides it (docs/architecture.md, "Moderation").
    ESCALATED = "escalated", "Escalated to admins"
    FALSE_POSITIVE = "false_positive", "False positive"


class ReasonKind(models.TextChoices):
    TOXICITY = "toxicity", "Toxicity"
    SPAM = "spam", "Spam"
    WATCHED_WORD = "watched_word", "Watched word"


class ModerationItem(models.Model):
    """A flagged message in the moderation queue, waiting for a moderator or decided."""

    interaction = models.OneToOneField(Interaction, models.CASCADE, related_name="moderation")
    status = models.CharField(
        max_length=16, choices=ModerationStatus.choices, default=ModerationStatus.PENDING
    )
    # Why it was flagged: [{"kind": ReasonKind, "detail": str, "score": float | None}].
    reasons = models.JSONField(default=list)
    # The reasons' kinds, space-separated: the filter by kind (SQLite cannot search JSON lists).
    kinds = models.CharField(max_length=64, blank=True)
    # A watched word asks for review: shown before the other pending items.
    requires_review = models.BooleanField(default=False)
    # Set by hide, cleared by approve and false positive. Kept when an edit re-opens the item,
    # so an edited message is not shown again before a moderator has looked at it.
    is_hidden = models.BooleanField(default=False)
    # A digest of the text that was flagged or decided: only a changed text re-opens a decision.
    text_hash = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="moderation_item_status")]

    def __str__(self) -> str:
        return f"{self.status} {self.interaction_id}"

    @property
    def is_pending(self) -> bool:
        return self.status == ModerationStatus.PENDING

    @property
    def status_class(self) -> str:
        """The CSS class of its status badge."""
        return STATUS_CLASSES.get(self.status, "")


STATUS_CLASSES: dict[str, str] = {
    ModerationStatus.PENDING: "status-interrupted",
    ModerationStatus.APPROVED: "status-succeeded",
    ModerationStatus.HIDDEN: "status-failed",
    ModerationStatus.ESCALATED: "status-running",
}


class ModerationActionKind(models.TextChoices):
    APPROVE = "approve", "Approve"
    HIDE = "hide", "Hide"
    ESCALATE = "escalate", "Escalate"
    FALSE_POSITIVE = "false_positive", "False positive"
    # An admin sends an escalated message back to the moderators' queue, with a reason.
    DEESCALATE = "deescalate", "Send back to the queue"
    # Townsquare itself, when the message was edited after a decision.
    REOPEN = "reopen", "Re-open"


class ModerationAction(models.Model):
    """One entry of the moderation audit log: who did what to a flagged message, when, why."""

    # Kept when the message is deleted (an erased member): the log outlives what it speaks of.
    item = models.ForeignKey(
        ModerationItem, models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    # None: Townsquare did it (re-opening an edited message).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=16, choices=ModerationActionKind.choices)
    reason = models.TextField(blank=True)
    status_before = models.CharField(max_length=16, choices=ModerationStatus.choices)
    status_after = models.CharField(max_length=16, choices=ModerationStatus.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["at", "id"], name="moderation_action_time"),
            models.Index(fields=["actor", "at"], name="moderation_action_actor"),
        ]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} on {self.item_id}"
