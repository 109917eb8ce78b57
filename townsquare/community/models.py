from __future__ import annotations

from django.db import models
from django.urls import reverse


class Platform(models.TextChoices):
    SLACK = "slack", "Slack"
    STACKEXCHANGE = "stackexchange", "Stack Exchange"
    GITHUB = "github", "GitHub"
    MASTODON = "mastodon", "Mastodon"
    MBOX = "mbox", "Mailing list"
    DISCORD = "discord", "Discord"
    TELEGRAM = "telegram", "Telegram"
    CSV = "csv", "CSV"
    JSONL = "jsonl", "JSON Lines"


class Source(models.Model):
    """One connected place where the community lives: a workspace, a site, a list."""

    name = models.CharField(max_length=200, unique=True)
    platform = models.CharField(max_length=32, choices=Platform.choices)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Channel(models.Model):
    """A room, list, tag or board inside a source where conversations happen."""

    source = models.ForeignKey(Source, models.CASCADE, related_name="channels")
    external_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    topic = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    is_archived = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="channel_source_ext")
        ]
        ordering = ["source_id", "name"]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    """One person, however many platforms they use."""

    display_name = models.CharField(max_length=255)
    first_seen_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_seen_at = models.DateTimeField(null=True, blank=True, db_index=True)
    interaction_count = models.PositiveIntegerField(default=0)
    # Staff and bots are excluded from metrics and engagement levels.
    is_team = models.BooleanField(default=False)
    is_bot = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name", "id"]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("member", args=[self.pk])


class Identity(models.Model):
    """A member's account on one source."""

    source = models.ForeignKey(Source, models.CASCADE, related_name="identities")
    member = models.ForeignKey(Member, models.CASCADE, related_name="identities")
    external_id = models.CharField(max_length=255)
    handle = models.CharField(max_length=255, blank=True)
    display_name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=320, blank=True, db_index=True)
    profile_url = models.CharField(max_length=500, blank=True)
    is_bot = models.BooleanField(default=False)
    # True when the source never described this account, only referred to it.
    is_placeholder = models.BooleanField(default=False)
    raw = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="identity_source_ext")
        ]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return self.display_name or self.handle or self.external_id


class Conversation(models.Model):
    """A thread, topic, question or issue: where a first message gets its replies."""

    source = models.ForeignKey(Source, models.CASCADE, related_name="conversations")
    channel = models.ForeignKey(
        Channel, models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    external_id = models.CharField(max_length=255)
    title = models.CharField(max_length=500, blank=True)
    url = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="conversation_source_ext"
            )
        ]

    def __str__(self) -> str:
        return self.title or self.external_id

    def get_absolute_url(self) -> str:
        return reverse("conversation", args=[self.pk])


class InteractionKind(models.TextChoices):
    POST = "post", "Post"
    REPLY = "reply", "Reply"
    COMMENT = "comment", "Comment"
    MESSAGE = "message", "Message"
    REACTION = "reaction", "Reaction"
    SHARE = "share", "Share"
    MENTION = "mention", "Mention"
    JOIN = "join", "Join"
    LEAVE = "leave", "Leave"
    EDIT = "edit", "Edit"
    ANSWER = "answer", "Answer"
    ACCEPTED = "accepted", "Accepted answer"
    VOTE = "vote", "Vote"
    BADGE = "badge", "Badge"
    EVENT = "event", "Event"


class Interaction(models.Model):
    """One thing a member did: a post, a reply, a reaction, a join... with its raw payload."""

    source = models.ForeignKey(Source, models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=InteractionKind.choices)
    identity = models.ForeignKey(Identity, models.CASCADE, null=True, related_name="+")
    # Copied from identity.member so per-member queries need no join; merges keep it in step.
    member = models.ForeignKey(Member, models.CASCADE, null=True, related_name="interactions")
    channel = models.ForeignKey(Channel, models.SET_NULL, null=True, related_name="+")
    conversation = models.ForeignKey(
        Conversation, models.SET_NULL, null=True, related_name="interactions"
    )
    parent = models.ForeignKey("self", models.SET_NULL, null=True, related_name="+")
    # Kept so a parent imported later (or in a later run) can still be linked.
    parent_external_id = models.CharField(max_length=255, blank=True)
    text = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(null=True)
    # A digest of everything imported for this row: a re-import touches only what changed.
    content_hash = models.CharField(max_length=32)
    imported_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="interaction_source_ext")
        ]
        indexes = [
            models.Index(fields=["member", "created_at"], name="interaction_member_time"),
            models.Index(fields=["conversation", "created_at"], name="interaction_conv_time"),
            models.Index(fields=["created_at"], name="interaction_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}"
