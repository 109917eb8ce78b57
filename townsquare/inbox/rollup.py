"""The conversation rollup: one `ConversationState` per conversation, recomputed in SQL.

`refresh_states` recomputes conversations in batches; each batch is one INSERT ... SELECT ...
ON CONFLICT statement whose correlated subqueries walk the (conversation, created_at) index of
the interactions: the first message, the first response, the last activity and the message
count are found by the database, never by looping over interactions in Python. The manual
"marked answered" fields are kept by an update.

Definitions (docs/metrics.md, "Time to first response"):

- the **first message** is the conversation's earliest interaction of a message kind (post,
  reply, comment, message, answer), by time and then id; its author is the **opener**;
- a **response** is a later message of a message kind — or a reaction, when
  TOWNSQUARE_TTFR_COUNTS_REACTIONS is on — by a known member other than the opener who is not
  a bot (neither the member nor the account that wrote it is marked as one). Team members
  count. Interaction.member is the surviving member after merges, so a merged person's other
  accounts are the opener too;
- a conversation **awaits a reply** when it has a first message, no response, and nobody
  marked it answered, and its opener is not a bot (neither the member nor the account).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from townsquare.community.models import Conversation, Interaction, InteractionKind
from townsquare.lib.sql import seconds_between
from townsquare.listening.pulse import MESSAGE_KINDS

# Conversations per statement: big enough that a full refresh is a few hundred statements,
# small enough that SQLite's write lock is held briefly and IN lists stay under its limit.
BATCH_SIZE = 900

# Written first, kept on conflict (the manual fields are left as they are).
_DERIVED = (
    "source_id",
    "channel_id",
    "opened_by_id",
    "opened_at",
    "first_message_id",
    "is_question",
    "language",
    "sentiment",
    "sentiment_score",
    "first_response_at",
    "first_responder_id",
    "last_activity_at",
    "message_count",
    "response_seconds",
)


def response_kinds() -> tuple[str, ...]:
    """The kinds of interaction that answer a conversation, as the settings say today."""
    if settings.TOWNSQUARE_TTFR_COUNTS_REACTIONS:
        return (*MESSAGE_KINDS, InteractionKind.REACTION)
    return MESSAGE_KINDS


def _marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _statement(scope: str, scope_params: list[Any]) -> tuple[str, list[Any]]:
    """The upsert of one batch (`scope` is a condition on `c.id`) and its parameters."""
    answers = response_kinds()
    columns = ", ".join(_DERIVED)
    updates = ", ".join(f"{column} = excluded.{column}" for column in _DERIVED)
    # A row is rewritten only when something changed: a full refresh writes little.
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    awaiting = (
        "CASE WHEN excluded.awaiting_reply AND inbox_conversationstate.answered_at IS NULL"
        " THEN %s ELSE %s END"
    )
    changed = " OR ".join(
        [
            *(
                f"inbox_conversationstate.{column} {differs} excluded.{column}"
                for column in _DERIVED
            ),
            f"inbox_conversationstate.awaiting_reply {differs} {awaiting}",
        ]
    )
    # Only constants, our column names and placeholders: no value is interpolated.
    sql = (
        f"INSERT INTO inbox_conversationstate (conversation_id, {columns},"  # noqa: S608
        " refreshed_at, answered_link, awaiting_reply)"
        " SELECT c.id, c.source_id, c.channel_id, f.member_id,"
        " COALESCE(f.created_at, c.started_at), f.id,"
        " COALESCE(e.is_question, %s), COALESCE(e.language, ''), COALESCE(e.sentiment_label, ''),"
        " e.sentiment, r.created_at, r.member_id,"
        " (SELECT MAX(a.created_at) FROM community_interaction a WHERE a.conversation_id = c.id),"
        " (SELECT COUNT(*) FROM community_interaction a"
        f"   WHERE a.conversation_id = c.id AND a.kind IN ({_marks(MESSAGE_KINDS)})),"
        f" {seconds_between('r.created_at', 'COALESCE(f.created_at, c.started_at)')},"
        " %s, '',"
        # A bot's post (a deploy notice, a feed item) waits for nobody's reply.
        " CASE WHEN f.id IS NOT NULL AND r.id IS NULL"
        "   AND NOT EXISTS (SELECT 1 FROM community_member om"
        "     WHERE om.id = f.member_id AND om.is_bot = %s)"
        "   AND NOT EXISTS (SELECT 1 FROM community_identity oi"
        "     WHERE oi.id = f.identity_id AND oi.is_bot = %s)"
        " THEN %s ELSE %s END"
        " FROM community_conversation c"
        " LEFT JOIN community_interaction f ON f.id = ("
        "   SELECT i.id FROM community_interaction i"
        f"   WHERE i.conversation_id = c.id AND i.kind IN ({_marks(MESSAGE_KINDS)})"
        "   ORDER BY i.created_at, i.id LIMIT 1)"
        " LEFT JOIN listening_enrichment e ON e.interaction_id = f.id"
        " LEFT JOIN community_interaction r ON r.id = ("
        "   SELECT j.id FROM community_interaction j"
        "   JOIN community_member m ON m.id = j.member_id"
        "   LEFT JOIN community_identity d ON d.id = j.identity_id"
        f"   WHERE j.conversation_id = c.id AND j.kind IN ({_marks(answers)})"
        "   AND (f.member_id IS NULL OR j.member_id <> f.member_id)"
        "   AND m.is_bot = %s AND (d.id IS NULL OR d.is_bot = %s)"
        "   ORDER BY j.created_at, j.id LIMIT 1)"
        f" WHERE {scope}"
        f" ON CONFLICT (conversation_id) DO UPDATE SET {updates},"
        f" refreshed_at = excluded.refreshed_at, awaiting_reply = {awaiting}"
        f" WHERE {changed}"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params: list[Any] = [
        False,
        *MESSAGE_KINDS,
        now,
        True,
        True,
        True,
        False,
        *MESSAGE_KINDS,
        *answers,
        False,
        False,
        *scope_params,
        True,
        False,
        True,
        False,
    ]
    return sql, params


def _batches(conversation_ids: Iterable[int] | None) -> Iterator[tuple[str, list[Any]]]:
    """(condition on c.id, its parameters) for each batch."""
    if conversation_ids is None:
        # Every conversation: consecutive id ranges, which the primary key reads in order.
        ids = list(Conversation.objects.order_by("id").values_list("id", flat=True))
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = ids[start : start + BATCH_SIZE]
            yield "c.id BETWEEN %s AND %s", [chunk[0], chunk[-1]]
        return
    wanted = sorted({int(i) for i in conversation_ids})
    for start in range(0, len(wanted), BATCH_SIZE):
        chunk = wanted[start : start + BATCH_SIZE]
        yield f"c.id IN ({_marks(chunk)})", list(chunk)


def refresh_states(conversation_ids: Iterable[int] | None = None) -> int:
    """Recompute the states of these conversations (None: of every conversation); returns
    how many rows were written: new, or changed since the last refresh (`refreshed_at` says
    when). Conversations that no longer exist are skipped; a state goes with its conversation
    (cascade)."""
    written = 0
    for scope, scope_params in _batches(conversation_ids):
        sql, params = _statement(scope, scope_params)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            written += max(cursor.rowcount, 0)
    return written


# The first message's labels as the state keeps them, from its enrichment row `e`.
_LABELS = (
    ("is_question", "COALESCE(e.is_question, %s)"),
    ("language", "COALESCE(e.language, '')"),
    ("sentiment", "COALESCE(e.sentiment_label, '')"),
    ("sentiment_score", "e.sentiment"),
)


def refresh_labels(messages: Iterable[tuple[int, int | None]]) -> int:
    """After the enrichment of these messages (interaction id, conversation id) changed their
    labels: copy the labels into the states whose first message they are, and refresh whole
    the conversations that have no state yet. Labels change nothing else a state holds (which
    message is first, who responded, when), so this spares the full recount's subqueries of
    every conversation touched: the enrichment of a whole history relabels every opener.
    Returns how many states were written."""
    messages = list(messages)
    written = 0
    table = "inbox_conversationstate"
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    assignments = ", ".join(f"{column} = {value}" for column, value in _LABELS)
    changed = " OR ".join(f"{table}.{column} {differs} {value}" for column, value in _LABELS)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    ids = sorted({interaction_id for interaction_id, _ in messages})
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start : start + BATCH_SIZE]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {assignments}, refreshed_at = %s"  # noqa: S608
                f" FROM listening_enrichment e WHERE e.interaction_id = {table}.first_message_id"
                f" AND {table}.first_message_id IN ({_marks(chunk)}) AND ({changed})",
                [False, now, *chunk, False],
            )
            written += max(cursor.rowcount, 0)
    conversations = sorted({c for _, c in messages if c is not None})
    missing: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(conversations), BATCH_SIZE):
            chunk = conversations[start : start + BATCH_SIZE]
            cursor.execute(
                f"SELECT c.id FROM community_conversation c WHERE c.id IN ({_marks(chunk)})"  # noqa: S608
                f" AND NOT EXISTS (SELECT 1 FROM {table} s WHERE s.conversation_id = c.id)",
                chunk,
            )
            missing += [row[0] for row in cursor.fetchall()]
    if missing:
        written += refresh_states(missing)
    return written


def refresh_member_conversations(member_ids: Iterable[int]) -> int:
    """Recompute the conversations these members wrote in: after a merge or an unmerge moved
    their interactions, or after one of them was marked as a bot (or not)."""
    conversations = (
        Interaction.objects.filter(member_id__in=list(member_ids), conversation__isnull=False)
        .order_by()
        .values_list("conversation_id", flat=True)
        .distinct()
    )
    return refresh_states(conversations)
