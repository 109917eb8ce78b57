"""The inbox: each conversation's state (who opened it, whether anyone answered), who claimed
it, and the team's saved replies."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.lookups import Exact

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

from townsquare.community.models import Channel, Conversation, Interaction, Member, Source
from townsquare.lib.sql import LOOKUP_CHUNK
from townsquare.listening.models import SentimentLabel


class IndexedBooleanField(models.BooleanField):  # type: ignore[type-arg]
    """A boolean that queries compare with "= true": Django writes `field=True` as a bare
    `WHERE field`, which SQLite cannot look up in an index on the column."""


@IndexedBooleanField.register_lookup
class IndexedExact(Exact):
    lookup_name = "exact"

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        # Exact's own as_sql turns "= true" into the bare column; its parent's keeps "= %s".
        sql, params = super(Exact, self).as_sql(compiler, connection)
        return sql, tuple(params)


class ConversationState(models.Model):
    """One conversation rolled up: its opener and first message with that message's labels,
    its first response by someone else, its activity, and whether it still awaits a reply.
    Derived from the interactions by `inbox.rollup.refresh_states` (docs/metrics.md), except
    the manual `answered_*` fields, which a refresh keeps."""

    conversation = models.OneToOneField(
        Conversation, models.CASCADE, primary_key=True, related_name="state"
    )
    # Indexed below, with whether it awaits a reply and since when.
    source = models.ForeignKey(Source, models.CASCADE, related_name="+", db_index=False)
    channel = models.ForeignKey(
        Channel, models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    # The author of the first message; None when it has no known author (or no message).
    opened_by = models.ForeignKey(Member, models.SET_NULL, null=True, blank=True, related_name="+")
    # The first message's time; the conversation's start when it has no message.
    opened_at = models.DateTimeField()
    first_message = models.ForeignKey(
        Interaction, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The first message's labels (listening.Enrichment), as a person corrected them if they did.
    is_question = models.BooleanField(default=False)
    language = models.CharField(max_length=8, blank=True, default="")
    sentiment = models.CharField(
        max_length=12, choices=SentimentLabel.choices, blank=True, default=""
    )
    sentiment_score = models.FloatField(null=True, blank=True)
    # The first message by someone else than the opener, not a bot: no value when nobody did.
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_responder = models.ForeignKey(
        Member, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # first_response_at − opened_at in seconds, stored so that time to first response is read
    # straight from an index instead of computed row by row.
    response_seconds = models.FloatField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    # Messages of every written kind, the first one included; not reactions, votes or joins.
    message_count = models.PositiveIntegerField(default=0)
    # Marked answered by a person (answered elsewhere, by email, on the platform directly).
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_link = models.CharField(max_length=500, blank=True)
    # Has a first message, no first response, and is not marked answered.
    awaiting_reply = IndexedBooleanField(default=False)
    # When a refresh last found something changed (and wrote the row).
    refreshed_at = models.DateTimeField()

    class Meta:
        # The inbox lists what awaits a reply, oldest first: in all, or in a source (a
        # platform is its sources) or a channel, where an index on the awaiting flag alone
        # would read every waiting conversation of the other sources to find a page.
        indexes = [
            models.Index(fields=["awaiting_reply", "opened_at"], name="inbox_state_awaiting"),
            models.Index(
                fields=["source", "awaiting_reply", "opened_at"], name="inbox_state_source"
            ),
            models.Index(
                fields=["channel", "awaiting_reply", "opened_at"], name="inbox_state_channel"
            ),
            # Who answered first lately: the care queue's helpers, the top helpers report
            # (covering: the responder is read from the index).
            models.Index(
                fields=["first_response_at", "first_responder"], name="inbox_state_first_response"
            ),
            # Time to first response over a period: the response times in the order of the
            # conversations' start, read from the index alone.
            models.Index(
                fields=["opened_at", "response_seconds"],
                name="inbox_state_opened",
                condition=Q(first_message__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"state of conversation {self.conversation_id}"


def awaiting_among(conversation_ids: Iterable[int]) -> set[int]:
    """Those of these conversations that await a reply. Each is read by its primary key and
    the flag checked here: with the flag in the query, SQLite reads the awaiting index's
    200,000 entries instead."""
    wanted = sorted({int(i) for i in conversation_ids})
    found: set[int] = set()
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        rows = ConversationState.objects.filter(
            conversation_id__in=wanted[start : start + LOOKUP_CHUNK]
        ).values_list("conversation_id", "awaiting_reply")
        found.update(conversation_id for conversation_id, waits in rows if waits)
    return found


class Claim(models.Model):
    """A staff member saying "I am answering this one". The one-to-one is a unique index: two
    people cannot both claim a conversation, even at the same instant."""

    conversation = models.OneToOneField(Conversation, models.CASCADE, related_name="claim")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="inbox_claims")
    claimed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"conversation {self.conversation_id} claimed by {self.user_id}"


class SavedReply(models.Model):
    """A reply the team reuses, with variables filled in for the member it is sent to."""

    title = models.CharField(max_length=200, unique=True)
    body = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        verbose_name_plural = "saved replies"

    def __str__(self) -> str:
        return self.title
