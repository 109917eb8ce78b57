"""The one writer: turns typed records into rows, in batches, idempotently.

Importers know formats and nothing of the model; this module knows the model and nothing of
formats. Records may arrive in any order: an interaction whose author, channel or conversation
has not been described (yet, or ever) gets a placeholder row that a later record fills in.

Every batch is written in its own transaction, so a run killed at any moment leaves whole
batches behind and the next run of the same export completes the rest without duplicates:
rows are keyed by (source, external id) and a content digest decides whether a row changed.
Interactions, the bulk of any export, go through the DB-API cursor in large batches: the ORM's
bulk_create is several times slower on SQLite.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from townsquare.community.models import (
    Channel,
    Conversation,
    Identity,
    Interaction,
    Member,
    Source,
)
from townsquare.community.text_search import index_pending
from townsquare.connectors.base import first_line
from townsquare.connectors.models import ImportRun, RejectedRecord
from townsquare.connectors.records import (
    ChannelRecord,
    ConversationRecord,
    IdentityRecord,
    InteractionRecord,
    Record,
    RejectedRecordInfo,
)
from townsquare.inbox.rollup import refresh_states
from townsquare.lib.sql import LOOKUP_CHUNK
from townsquare.listening.pipeline import TEXT_KINDS
from townsquare.metrics.rollups import day_of, refresh_days

# Enough to keep every conversation of a busy thread-heavy stretch of an export in memory,
# small enough to keep a multi-million-message import's memory flat.
CONVERSATION_CACHE_SIZE = 100_000

INTERACTION_COLUMNS = (
    "source_id",
    "external_id",
    "kind",
    "identity_id",
    "member_id",
    "channel_id",
    "conversation_id",
    "parent_external_id",
    "text",
    "url",
    "created_at",
    "edited_at",
    "raw",
    "content_hash",
    "imported_at",
)


def _chunks(items: Sequence[Any], size: int = LOOKUP_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# One encoder for every row: json.dumps builds a new one per call when given options.
_RAW_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, sort_keys=True)


def _digest(*parts: object) -> str:
    # Each part preceded by a unit separator, hashed in one call: the same bytes (so the same
    # digest) as updating the hash part by part, at a fraction of the calls.
    text = "\x1f" + "\x1f".join(map(str, parts)) if parts else ""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


# A lone surrogate (an export's "\ud800" escape decodes to one) cannot be stored as UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """The text with every unpaired surrogate replaced by U+FFFD; unchanged otherwise."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    # Through UTF-16, a valid pair becomes its character and a lone half the replacement one.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _clean_json(value: Any) -> Any:
    """A JSON value with its strings cleaned as clean_text does (PostgreSQL refuses them)."""
    encoded = _RAW_ENCODER.encode(value)
    cleaned = clean_text(encoded)
    return value if cleaned is encoded else json.loads(cleaned)


def _member_name(record: IdentityRecord) -> str:
    return clean_text((record.display_name or record.handle or record.external_id)[:255])


def _wordless_conversations(rows: list[tuple[Any, ...]]) -> set[int]:
    """The conversations of the interactions among these rows that have no words to enrich."""
    return {row[6] for row in rows if row[6] is not None and row[2] not in TEXT_KINDS}


class Writer:
    """Buffers records and writes them in batches for one run into one source."""

    def __init__(self, *, run: ImportRun, source: Source, batch_size: int = 2000) -> None:
        self.run = run
        self.source = source
        self.batch_size = batch_size
        self.counts: dict[str, Counter[str]] = {
            "created": Counter(),
            "updated": Counter(),
            "unchanged": Counter(),
        }
        self.rejected_count = 0
        self.records_seen = 0

        self._channels: dict[str, ChannelRecord] = {}
        self._identities: dict[str, IdentityRecord] = {}
        self._conversations: dict[str, ConversationRecord] = {}
        self._interactions: list[InteractionRecord] = []
        self._rejected: list[RejectedRecordInfo] = []

        self._channel_ids: dict[str, int] = dict(
            Channel.objects.filter(source=source).values_list("external_id", "id")
        )
        self._identity_ids: dict[str, tuple[int, int]] = {}
        self._conversation_ids: OrderedDict[str, int] = OrderedDict()

        vendor = connection.vendor
        self._json_placeholder = "%s::jsonb" if vendor == "postgresql" else "%s"
        self._sqlite = vendor == "sqlite"
        # Django's SQLite backend stores an aware time as its naive text in the connection's
        # zone; when that zone is UTC, a UTC time's text can be made without the round trip.
        self._utc_text_datetimes = (
            self._sqlite and settings.USE_TZ and connection.timezone_name == "UTC"
        )
        # A source with no rows yet (a first import) holds none of this run's records but
        # those the run writes itself, so a batch can be inserted without first looking its
        # ids up. An id the run meets twice makes that insert fail; the batch then takes the
        # look-up path, and so does the rest of the run.
        self._fresh_conversations = not Conversation.objects.filter(source=source).exists()
        self._fresh_interactions = not Interaction.objects.filter(source=source).exists()
        # UTC days whose interactions this run wrote: their rollups are recounted at the end.
        self._days: set[date] = set()
        # Conversations whose inbox state this run must recount at its end: those it brought
        # interactions without words (reactions, votes, joins: no enrichment reads them) or
        # edits (which may move a message: its former conversation too). The enrichment that
        # follows an import recounts the conversations of the messages it sees first.
        self._conversation_pks: set[int] = set()

    # Intake

    def add(self, record: Record) -> None:
        self.records_seen += 1
        if isinstance(record, InteractionRecord):
            self._interactions.append(record)
            if len(self._interactions) >= self.batch_size:
                self.flush()
        elif isinstance(record, IdentityRecord):
            self._identities[record.external_id] = record
        elif isinstance(record, ConversationRecord):
            self._conversations[record.external_id] = record
            if len(self._conversations) >= self.batch_size:
                self.flush()
        elif isinstance(record, ChannelRecord):
            self._channels[record.external_id] = record
        else:
            self._rejected.append(record)
            self.rejected_count += 1
            if len(self._rejected) >= self.batch_size:
                self.flush()

    def flush(self) -> None:
        """Write everything buffered in one transaction, and record the run's progress."""
        with transaction.atomic():
            self._write_channels(list(self._channels.values()))
            self._write_identities(list(self._identities.values()))
            self._write_conversations(list(self._conversations.values()))
            self._write_interactions(self._interactions)
            # New text into the search index in bulk (community/text_search.py).
            index_pending()
            self._write_rejected(self._rejected)
            self._save_progress()
        self._channels.clear()
        self._identities.clear()
        self._conversations.clear()
        self._interactions = []
        self._rejected = []

    def finish(self) -> None:
        """Flush, then derive what needs the whole source: reply links and member activity."""
        self.flush()
        with transaction.atomic():
            link_parents(self.source)
            refresh_member_activity(self.source)
            refresh_days(self._days)
            refresh_states(self._conversation_pks)

    # Channels and identities: few rows, written through the ORM

    def _write_channels(self, records: list[ChannelRecord]) -> None:
        if not records:
            return
        existing = {
            c.external_id: c
            for c in Channel.objects.filter(
                source=self.source, external_id__in=[r.external_id for r in records]
            )
        }
        new, changed = [], []
        for r in records:
            fields = {
                "name": r.name[:255],
                "topic": r.topic,
                "url": r.url[:500],
                "created_at": r.created_at,
                "is_archived": r.is_archived,
            }
            current = existing.get(r.external_id)
            if current is None:
                new.append(Channel(source=self.source, external_id=r.external_id, **fields))
            elif any(getattr(current, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(current, k, v)
                changed.append(current)
            else:
                self.counts["unchanged"]["channel"] += 1
        Channel.objects.bulk_create(new)
        Channel.objects.bulk_update(changed, ["name", "topic", "url", "created_at", "is_archived"])
        self.counts["created"]["channel"] += len(new)
        self.counts["updated"]["channel"] += len(changed)
        for c in Channel.objects.filter(
            source=self.source, external_id__in=[r.external_id for r in new]
        ):
            self._channel_ids[c.external_id] = c.id

    def _write_identities(self, records: list[IdentityRecord]) -> None:
        for chunk in _chunks(records):
            self._write_identity_chunk(chunk)

    def _write_identity_chunk(self, records: Sequence[IdentityRecord]) -> None:
        existing = {
            i.external_id: i
            for i in Identity.objects.filter(
                source=self.source, external_id__in=[r.external_id for r in records]
            ).select_related("member")
        }
        new_records = [r for r in records if r.external_id not in existing]
        members = Member.objects.bulk_create(
            [Member(display_name=_member_name(r), is_bot=r.is_bot) for r in new_records]
        )
        new_identities = [
            Identity(source=self.source, member=m, **self._identity_fields(r))
            for r, m in zip(new_records, members, strict=True)
        ]
        Identity.objects.bulk_create(new_identities)
        self.counts["created"]["identity"] += len(new_identities)

        changed: list[Identity] = []
        renamed_members: list[Member] = []
        for r in records:
            current = existing.get(r.external_id)
            if current is None:
                continue
            fields = self._identity_fields(r)
            if all(getattr(current, k) == v for k, v in fields.items()):
                self.counts["unchanged"]["identity"] += 1
                continue
            was_placeholder = current.is_placeholder
            for k, v in fields.items():
                setattr(current, k, v)
            changed.append(current)
            # A member created from a bare reference takes the name the source gives later.
            if was_placeholder and current.member.identities.count() == 1:
                current.member.display_name = _member_name(r)
                current.member.is_bot = r.is_bot
                renamed_members.append(current.member)
        Identity.objects.bulk_update(changed, list(self._identity_fields(records[0])))
        Member.objects.bulk_update(renamed_members, ["display_name", "is_bot"])
        self.counts["updated"]["identity"] += len(changed)
        for identity in new_identities:
            self._identity_ids[identity.external_id] = (identity.id, identity.member_id)

    @staticmethod
    def _identity_fields(r: IdentityRecord) -> dict[str, Any]:
        return {
            "external_id": r.external_id,
            "handle": clean_text(r.handle[:255]),
            "display_name": clean_text(r.display_name[:255]),
            "email": r.email[:320],
            "profile_url": r.profile_url[:500],
            "is_bot": r.is_bot,
            "is_placeholder": False,
            "raw": _clean_json(r.raw),
        }

    def _resolve_identities(self, external_ids: set[str]) -> None:
        missing = [e for e in external_ids if e not in self._identity_ids]
        for chunk in _chunks(missing):
            for ext, pk, member_pk in Identity.objects.filter(
                source=self.source, external_id__in=chunk
            ).values_list("external_id", "id", "member_id"):
                self._identity_ids[ext] = (pk, member_pk)
        placeholders = [e for e in missing if e not in self._identity_ids]
        if not placeholders:
            return
        members = Member.objects.bulk_create([Member(display_name=e[:255]) for e in placeholders])
        identities = Identity.objects.bulk_create(
            [
                Identity(source=self.source, member=m, external_id=e, is_placeholder=True)
                for e, m in zip(placeholders, members, strict=True)
            ]
        )
        self.counts["created"]["identity"] += len(identities)
        for identity in identities:
            self._identity_ids[identity.external_id] = (identity.id, identity.member_id)

    def _resolve_channels(self, external_ids: set[str]) -> None:
        missing = [e for e in external_ids if e not in self._channel_ids]
        if missing:
            self._write_channels([ChannelRecord(external_id=e, name=e) for e in missing])

    # Conversations and interactions: many rows, written through the cursor

    def _write_conversations(self, records: list[ConversationRecord]) -> None:
        if not records:
            return
        self._resolve_channels({r.channel_id for r in records if r.channel_id})
        to_db = self._datetime_to_db
        rows = [
            (
                self.source.id,
                r.external_id,
                clean_text(r.title[:500]),
                r.url[:500],
                to_db(r.started_at),
                self._channel_ids[r.channel_id] if r.channel_id else None,
            )
            for r in records
        ]
        table = Conversation._meta.db_table
        insert = (
            f"INSERT INTO {table} (source_id, external_id, title, url, started_at, "  # noqa: S608
            "channel_id) VALUES (%s, %s, %s, %s, %s, %s)"
        )
        if self._fresh_conversations:
            if self._insert_fresh(insert, rows):
                self.counts["created"]["conversation"] += len(rows)
                self._load_conversation_ids([row[1] for row in rows])
                return
            self._fresh_conversations = False
        existing: dict[str, tuple[Any, ...]] = {}
        with connection.cursor() as cursor:
            for chunk in _chunks([r.external_id for r in records]):
                cursor.execute(
                    f"SELECT external_id, id, title, url, started_at, channel_id FROM {table} "  # noqa: S608
                    f"WHERE source_id = %s AND external_id IN ({', '.join(['%s'] * len(chunk))})",
                    [self.source.id, *chunk],
                )
                for ext, pk, title, url, started_at, channel_id in cursor.fetchall():
                    existing[ext] = (pk, title, url, started_at, channel_id)
            new = [row for row in rows if row[1] not in existing]
            changed = [
                row
                for row in rows
                if row[1] in existing
                and (row[2], row[3], _as_utc(row[4]), row[5])
                != (
                    existing[row[1]][1],
                    existing[row[1]][2],
                    _as_utc(existing[row[1]][3]),
                    existing[row[1]][4],
                )
            ]
            if new:
                cursor.executemany(insert, new)
            if changed:
                cursor.executemany(
                    f"UPDATE {table} SET title = %s, url = %s, started_at = %s, channel_id = %s "  # noqa: S608
                    "WHERE source_id = %s AND external_id = %s",
                    [(t, u, s, c, src, ext) for src, ext, t, u, s, c in changed],
                )
        self.counts["created"]["conversation"] += len(new)
        self.counts["updated"]["conversation"] += len(changed)
        self.counts["unchanged"]["conversation"] += len(rows) - len(new) - len(changed)
        for ext, (pk, *_rest) in existing.items():
            self._remember_conversation(ext, pk)
        self._load_conversation_ids([row[1] for row in new])

    def _remember_conversation(self, external_id: str, pk: int) -> None:
        self._conversation_ids[external_id] = pk
        self._conversation_ids.move_to_end(external_id)
        while len(self._conversation_ids) > CONVERSATION_CACHE_SIZE:
            self._conversation_ids.popitem(last=False)

    def _load_conversation_ids(self, external_ids: Sequence[str]) -> None:
        table = Conversation._meta.db_table
        with connection.cursor() as cursor:
            for chunk in _chunks(list(external_ids)):
                cursor.execute(
                    f"SELECT external_id, id FROM {table} WHERE source_id = %s "  # noqa: S608
                    f"AND external_id IN ({', '.join(['%s'] * len(chunk))})",
                    [self.source.id, *chunk],
                )
                for ext, pk in cursor.fetchall():
                    self._remember_conversation(ext, pk)

    def _resolve_conversations(self, records: list[InteractionRecord]) -> None:
        wanted = {r.conversation_id for r in records if r.conversation_id}
        missing = [e for e in wanted if e not in self._conversation_ids]
        if missing:
            self._load_conversation_ids(missing)
        # A conversation no record described starts with the first interaction that names it.
        stubs: dict[str, ConversationRecord] = {}
        unknown = {e for e in wanted if e not in self._conversation_ids}
        # Only the records naming an unknown conversation need sorting (a stable sort keeps
        # the same earliest record of each).
        named = [r for r in records if r.conversation_id in unknown] if unknown else []
        for r in sorted(named, key=lambda r: r.created_at):
            ext = r.conversation_id
            if ext and ext not in stubs:
                stubs[ext] = ConversationRecord(
                    external_id=ext,
                    started_at=r.created_at,
                    title=first_line(r.text),
                    channel_id=r.channel_id,
                )
        if stubs:
            self._write_conversations(list(stubs.values()))
        for ext in wanted:
            if ext in self._conversation_ids:
                self._conversation_ids.move_to_end(ext)

    def _write_interactions(self, records: list[InteractionRecord]) -> None:
        if not records:
            return
        # The last record of an id wins when an export repeats one.
        by_id = {r.external_id: r for r in records}
        records = list(by_id.values())
        self._resolve_identities({r.author_id for r in records if r.author_id})
        self._resolve_channels({r.channel_id for r in records if r.channel_id})
        self._resolve_conversations(records)

        to_db = self._datetime_to_db
        encode_raw = _RAW_ENCODER.encode
        source_id = self.source.id
        identity_ids = self._identity_ids
        channel_ids = self._channel_ids
        conversation_ids = self._conversation_ids
        imported_at = to_db(timezone.now())
        rows: list[tuple[Any, ...]] = []
        append = rows.append
        for r in records:
            raw_json = clean_text(encode_raw(r.raw))
            text = clean_text(r.text)
            identity_id, member_id = identity_ids[r.author_id] if r.author_id else (None, None)
            created_at = r.created_at if r.created_at.tzinfo is UTC else _as_utc(r.created_at)
            edited_at = r.edited_at
            if edited_at and edited_at.tzinfo is not UTC:
                edited_at = _as_utc(edited_at)
            content_hash = _digest(
                r.kind,
                r.author_id,
                r.channel_id,
                r.conversation_id,
                r.parent_id,
                text,
                r.url,
                created_at.isoformat(),
                edited_at.isoformat() if edited_at else "",
                raw_json,
            )
            append(
                (
                    source_id,
                    r.external_id,
                    str(r.kind),
                    identity_id,
                    member_id,
                    channel_ids[r.channel_id] if r.channel_id else None,
                    conversation_ids.get(r.conversation_id) if r.conversation_id else None,
                    r.parent_id or "",
                    text,
                    r.url[:500],
                    to_db(created_at),
                    to_db(edited_at) if edited_at else None,
                    raw_json,
                    content_hash,
                    imported_at,
                )
            )

        table = "community_interaction"
        values = ", ".join(
            self._json_placeholder if col == "raw" else "%s" for col in INTERACTION_COLUMNS
        )
        insert = f"INSERT INTO {table} ({', '.join(INTERACTION_COLUMNS)}) VALUES ({values})"  # noqa: S608
        if self._fresh_interactions:
            if self._insert_fresh(insert, rows):
                self.counts["created"].update(Counter(row[2] for row in rows))
                self._days.update(day_of(row[10]) for row in rows)
                self._conversation_pks.update(_wordless_conversations(rows))
                return
            self._fresh_interactions = False
        existing: dict[str, str] = {}
        existing_times: dict[str, Any] = {}
        existing_conversations: dict[str, int | None] = {}
        with connection.cursor() as cursor:
            for chunk in _chunks([row[1] for row in rows]):
                cursor.execute(
                    f"SELECT external_id, content_hash, created_at, conversation_id FROM {table}"  # noqa: S608
                    f" WHERE source_id = %s AND external_id IN ({', '.join(['%s'] * len(chunk))})",
                    [self.source.id, *chunk],
                )
                for external_id, content_hash, created_at, conversation_pk in cursor.fetchall():
                    existing[external_id] = content_hash
                    existing_times[external_id] = created_at
                    existing_conversations[external_id] = conversation_pk
            new = [row for row in rows if row[1] not in existing]
            changed = [row for row in rows if row[1] in existing and existing[row[1]] != row[13]]
            # An edit may move a row to another day: both days are recounted.
            self._days.update(day_of(row[10]) for row in (*new, *changed))
            self._days.update(day_of(existing_times[row[1]]) for row in changed)
            self._conversation_pks.update(_wordless_conversations(new))
            self._conversation_pks.update(
                pk
                for pk in (
                    *(row[6] for row in changed),
                    *(existing_conversations[row[1]] for row in changed),
                )
                if pk is not None
            )
            if new:
                cursor.executemany(insert, new)
            if changed:
                # An edited record keeps its row (and what later work derived from it) and
                # gets its content replaced; parent_id is re-linked at the end of the run.
                settable = INTERACTION_COLUMNS[2:]
                assignments = ", ".join(
                    f"{col} = {self._json_placeholder if col == 'raw' else '%s'}"
                    for col in settable
                )
                cursor.executemany(
                    f"UPDATE {table} SET {assignments}, parent_id = NULL "  # noqa: S608
                    "WHERE source_id = %s AND external_id = %s",
                    [(*row[2:], row[0], row[1]) for row in changed],
                )
        kinds_new = Counter(row[2] for row in new)
        kinds_changed = Counter(row[2] for row in changed)
        kinds_all = Counter(row[2] for row in rows)
        self.counts["created"].update(kinds_new)
        self.counts["updated"].update(kinds_changed)
        self.counts["unchanged"].update(kinds_all - kinds_new - kinds_changed)

    def _insert_fresh(self, insert: str, rows: list[tuple[Any, ...]]) -> bool:
        """Insert rows taken to be new; False (and nothing written) if one already exists."""
        try:
            # A savepoint, so a failed insert leaves the batch's transaction usable.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(insert, rows)
        except IntegrityError:
            return False
        return True

    def _datetime_to_db(self, value: datetime | None) -> Any:
        if value is not None and self._utc_text_datetimes and value.tzinfo is UTC:
            return str(value.replace(tzinfo=None))
        return connection.ops.adapt_datetimefield_value(value)

    def _write_rejected(self, infos: list[RejectedRecordInfo]) -> None:
        if infos:
            RejectedRecord.objects.bulk_create(
                [
                    RejectedRecord(
                        run=self.run,
                        location=i.location[:1000],
                        reason=i.reason,
                        excerpt=i.excerpt,
                    )
                    for i in infos
                ]
            )

    def _save_progress(self) -> None:
        run = self.run
        run.records_seen = self.records_seen
        run.rejected_count = self.rejected_count
        run.counts = {
            outcome: {k: v for k, v in sorted(counter.items()) if v}
            for outcome, counter in self.counts.items()
        }
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["records_seen", "rejected_count", "counts", "heartbeat_at"])


def _as_utc(value: Any) -> Any:
    """Normalise a datetime (or SQLite's text form of one) for comparison and storage."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    return value


def link_parents(source: Source) -> None:
    """Point every reply, reaction or comment at its parent row, once the parent exists."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE community_interaction SET parent_id = ("
            " SELECT p.id FROM community_interaction p"
            " WHERE p.source_id = community_interaction.source_id"
            " AND p.external_id = community_interaction.parent_external_id)"
            " WHERE source_id = %s AND parent_id IS NULL AND parent_external_id <> ''",
            [source.id],
        )


def refresh_member_activity(source: Source) -> None:
    """Recompute first/last seen and interaction counts of the members active in a source."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE community_member SET"
            " first_seen_at = (SELECT MIN(i.created_at) FROM community_interaction i"
            "   WHERE i.member_id = community_member.id),"
            " last_seen_at = (SELECT MAX(i.created_at) FROM community_interaction i"
            "   WHERE i.member_id = community_member.id),"
            " interaction_count = (SELECT COUNT(*) FROM community_interaction i"
            "   WHERE i.member_id = community_member.id)"
            " WHERE id IN (SELECT member_id FROM community_identity WHERE source_id = %s)",
            [source.id],
        )
