from __future__ import annotations

from datetime import UTC, date
from typing import Any

from django.conf import settings
from django.db import models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.ddl_references import Columns, Statement
from django.db.models import Max, Q
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


class NullsLastIndex(models.Index):
    """An index whose descending columns put NULLs last, as the member list sorts its dates.
    PostgreSQL puts NULLs first in a descending index unless told; SQLite's descending order
    already puts them last, and its CREATE INDEX takes no NULLS LAST."""

    def create_sql(
        self,
        model: type[models.Model],
        schema_editor: BaseDatabaseSchemaEditor,
        using: str = "",
        **kwargs: Any,
    ) -> Statement:
        statement = super().create_sql(model, schema_editor, using=using, **kwargs)
        columns = statement.parts["columns"]
        if schema_editor.connection.vendor == "postgresql" and isinstance(columns, Columns):
            columns.col_suffixes = [
                f"{suffix} NULLS LAST" if suffix == "DESC" else suffix
                for suffix in columns.col_suffixes
            ]
        return statement


# The members the member list shows unless asked: not merged into another, not erased.
LISTED = Q(merged_into__isnull=True, erased_at__isnull=True)


class Member(models.Model):
    """One person, however many platforms they use."""

    display_name = models.CharField(max_length=255)
    first_seen_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_seen_at = models.DateTimeField(null=True, blank=True, db_index=True)
    interaction_count = models.PositiveIntegerField(default=0)
    # Staff and bots are excluded from metrics and engagement levels.
    is_team = models.BooleanField(default=False)
    is_bot = models.BooleanField(default=False)
    # Never contact this person (they asked, or the law says so); shown wherever one could.
    do_not_contact = models.BooleanField(default=False)
    # Staff-defined fields ("company", "time zone"...): name -> value.
    custom_fields = models.JSONField(default=dict, blank=True)
    # A member merged into another keeps its row, so that an unmerge restores it exactly.
    merged_into = models.ForeignKey(
        "self",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_members",
        db_index=False,  # member_merged_into: the few merged rows only
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    # Set when the member's personal data was erased on request; the row keeps counts only.
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name", "id"]
        indexes = [
            # The member list's sorts (front/queries.py MEMBER_SORTS) over the members it
            # lists: a page and the count read an index instead of sorting the whole table.
            NullsLastIndex(
                fields=["-last_seen_at", "id"], name="member_listed_last_seen", condition=LISTED
            ),
            NullsLastIndex(
                fields=["-first_seen_at", "id"], name="member_listed_first_seen", condition=LISTED
            ),
            models.Index(
                fields=["-interaction_count", "display_name", "id"],
                name="member_listed_interactions",
                condition=LISTED,
            ),
            models.Index(
                fields=["display_name", "id"], name="member_listed_name", condition=LISTED
            ),
            # Partial: an index of every member's NULL would be chosen for "not merged" (the
            # whole table) by SQLite, which keeps no statistics.
            models.Index(
                fields=["merged_into"],
                name="member_merged_into",
                condition=Q(merged_into__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("member", args=[self.pk])


class Tag(models.Model):
    """A staff-defined label for members ("speaker", "beta tester")."""

    name = models.CharField(max_length=100, unique=True)
    color = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MemberTag(models.Model):
    """A tag on a member: who put it there and when."""

    member = models.ForeignKey(Member, models.CASCADE, related_name="member_tags")
    tag = models.ForeignKey(Tag, models.CASCADE, related_name="member_tags")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "tag"], name="member_tag_once")]


# Identities whose source says the account was deactivated (`Identity.is_deactivated`).
DEACTIVATED = Q(raw__deleted=True)


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
        indexes = [
            # The member list's search reads handles, names and emails from this index alone:
            # a substring search must read every one of them, and this is a fraction of the rows.
            models.Index(
                fields=["handle", "display_name", "email", "member"], name="identity_search"
            ),
        ]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return self.display_name or self.handle or self.external_id

    @property
    def is_deactivated(self) -> bool:
        """Whether the source says the account was deactivated (a Slack user marked `deleted`
        in the export): nobody reaches them there any more."""
        return isinstance(self.raw, dict) and self.raw.get("deleted") is True


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
    # Indexed by interaction_member_time and interaction_member_kind, which start with it.
    member = models.ForeignKey(
        Member, models.CASCADE, null=True, related_name="interactions", db_index=False
    )
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
            # A member's counts per kind and per channel, and the timeline's kind and channel
            # filters, from the index alone.
            models.Index(fields=["member", "kind", "channel"], name="interaction_member_kind"),
            models.Index(fields=["conversation", "created_at"], name="interaction_conv_time"),
            models.Index(fields=["created_at"], name="interaction_time"),
            # Accepted-answer marks over a period (the top helpers report): few rows, so a
            # partial index instead of reading every interaction of the period for its kind.
            models.Index(
                fields=["created_at", "parent"],
                name="interaction_accepted",
                condition=Q(kind=InteractionKind.ACCEPTED),
            ),
            # What an import wrote: the enrichment it queues reads only that.
            models.Index(fields=["imported_at"], name="interaction_imported"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}"

    @classmethod
    def newest_day(cls) -> date | None:
        """The UTC day of the newest interaction (None: there is none): where a view of a
        period falls back to when the period holds nothing, an imported history's end."""
        newest = cls.objects.aggregate(newest=Max("created_at"))["newest"]
        return newest.astimezone(UTC).date() if newest is not None else None


class MergeStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class MergeSuggestion(models.Model):
    """Two members who may be one person, with how sure we are and why, awaiting a decision."""

    # Stored with member_a.id < member_b.id, so a pair has one row whichever way it was found.
    member_a = models.ForeignKey(Member, models.CASCADE, related_name="+")
    member_b = models.ForeignKey(Member, models.CASCADE, related_name="+")
    confidence = models.FloatField()
    # Plain-language reasons: ["same email", "similar display name"].
    evidence = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=MergeStatus.choices, default=MergeStatus.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member_a", "member_b"], name="merge_suggestion_pair")
        ]
        indexes = [models.Index(fields=["status", "-confidence"], name="merge_suggestion_open")]


class AuditAction(models.TextChoices):
    MERGE = "merge", "Merge"
    UNMERGE = "unmerge", "Unmerge"
    ERASE = "erase", "Erase"
    EXPORT = "export", "Export"
    MARK = "mark", "Mark as staff, bot or do-not-contact"


class AuditEntry(models.Model):
    """Something staff did to members' data: who, what, when, why. No personal data."""

    action = models.CharField(max_length=16, choices=AuditAction.choices)
    # Plain ids, not foreign keys: the entry outlives an erased or deleted member.
    member_ids = models.JSONField(default=list)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Whether a person decided it, or a rule (e.g. "same verified email").
    automatic = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    # What is needed to undo it (identity ids moved...) and counts; never names or text.
    details = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class Note(models.Model):
    """A staff note about a member, in Markdown."""

    member = models.ForeignKey(Member, models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class Touchpoint(models.Model):
    """A human contact the team had with a member: who, when, where, why and how it went."""

    member = models.ForeignKey(Member, models.CASCADE, related_name="touchpoints")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    happened_at = models.DateTimeField()
    channel = models.CharField(max_length=100, blank=True)
    reason = models.TextField(blank=True)
    outcome = models.TextField(blank=True)
    # The message it answered or was about, when there is one.
    interaction = models.ForeignKey(
        Interaction, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-happened_at", "-id"]


class KnowledgeEntry(models.Model):
    """Something a member taught us (a tip, a tool, an article) that the team used, with credit."""

    member = models.ForeignKey(Member, models.CASCADE, related_name="knowledge")
    interaction = models.ForeignKey(
        Interaction, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "knowledge entries"
