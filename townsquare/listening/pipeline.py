"""Enrichment: run every analyzer over interactions in batches and store what they found.

One `Enrichment` row per interaction of a kind that carries words (`TEXT_KINDS`: posts,
replies, comments, messages...). Those with an empty text (or a mail that only quotes) get a row
too, marked `analyzed=False` with only the versions: among them "no row" always means "never
enriched" and staleness is one anti-join. Interactions of the other kinds (reactions, joins,
votes, badges, events, accepted-answer marks) get no row: nothing in them is analysed, so they
cost an enrichment nothing, and a new analyzer version has nothing to redo there (they were
half of a chat community's interactions, and half of the pipeline's writes).

A row is stale when its `version_key` (a digest of every analyzer's version and the
pipeline's) is not the current one, or when the interaction was edited since (its content
digest changed): `find_stale` finds those, `enrich_pending` redoes them.

Analysis runs outside any transaction (it is the slow part, and SQLite would hold its write lock
meanwhile); each batch's writes are one transaction: an upsert of the Enrichment rows through
the DB-API cursor (the ORM's bulk_create is several times slower), the Thanks it implies and the
tracked-term matches. People's corrections (`LabelCorrection`) are applied on top of the
analyzers' values in every batch, so they survive any re-enrichment; a corrected language is
also what the other analyzers are given. The tables counted from the labels (the inbox's
conversations, the metrics' rollups) are refreshed after a run for the rows whose counted
labels changed (`_Labels`): a re-enrichment that changes none recounts nothing.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import html
import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from townsquare.community.models import Identity, Interaction, InteractionKind, Platform
from townsquare.community.text_search import containing
from townsquare.inbox.rollup import refresh_labels, refresh_states
from townsquare.lib.mail import own_words
from townsquare.lib.sql import LOOKUP_CHUNK, execute_sqlite
from townsquare.listening.analyzers.base import UNSUPPORTED, TextItem
from townsquare.listening.analyzers.registry import ANALYZERS, get_analyzer
from townsquare.listening.models import (
    CorrectableField,
    TermKind,
    TermMatch,
    TrackedTerm,
)

# Bumped when the pipeline itself changes what it stores (text preparation, column mapping):
# like an analyzer's version, it makes every row stale.
PIPELINE_VERSION = "2"  # 2: mail analysed without its quotes and signature

# Kinds where a person wrote words; the others carry a name at most (a reaction's emoji).
TEXT_KINDS = frozenset(
    {
        InteractionKind.POST,
        InteractionKind.REPLY,
        InteractionKind.COMMENT,
        InteractionKind.MESSAGE,
        InteractionKind.MENTION,
        InteractionKind.SHARE,
        InteractionKind.EDIT,
        InteractionKind.ANSWER,
    }
)
# Sources whose bodies are HTML.
HTML_PLATFORMS = frozenset({Platform.STACKEXCHANGE, Platform.MASTODON})
# Mail whose replies quote what they answer ("On Mon, … wrote:" and "> " lines) and end with a
# signature: the analyzers judge the writer's own words only.
MAIL_PLATFORMS = frozenset({Platform.MBOX})
# Labels do not change past this much text, and one pasted log must not stall a batch.
MAX_ANALYZED_CHARS = 4000

COLUMNS = (
    "interaction_id",
    "member_id",  # a copy of the interaction's (listening.models.Enrichment.member)
    "analyzed",
    "language",
    "language_confidence",
    "sentiment",
    "sentiment_label",
    "is_question",
    "question_score",
    "is_gratitude",
    "emotion",
    "emotion_scores",
    "toxicity",
    "is_toxic",
    "spam",
    "is_spam",
    "keywords",
    "versions",
    "version_key",
    "content_hash",
    "corrected",
    "enriched_at",
)
# What a row holds before (or without) analysis.
_UNANALYZED: dict[str, Any] = {
    "analyzed": False,
    "language": None,
    "language_confidence": 0.0,
    "sentiment": None,
    "sentiment_label": "",
    "is_question": False,
    "question_score": 0.0,
    "is_gratitude": False,
    "emotion": "",
    "emotion_scores": "{}",
    "toxicity": 0.0,
    "is_toxic": False,
    "spam": 0.0,
    "is_spam": False,
    "keywords": "[]",
    "corrected": "[]",
}
_COLUMN_INDEX = {name: i for i, name in enumerate(COLUMNS)}


def _json(value: Any) -> str:
    """The JSON of a column as the pipeline writes it: keys sorted, compact, UTF-8 as is
    (orjson: every analysed message gets two of these, and json took 3.4 µs each)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()


# Versions ------------------------------------------------------------------------------------


def current_versions() -> dict[str, str]:
    """Analyzer name -> its current version, plus the pipeline's own."""
    versions = {name: str(get_analyzer(name).version) for name in ANALYZERS}
    versions["pipeline"] = PIPELINE_VERSION
    return versions


def version_key(versions: dict[str, str]) -> str:
    """A short digest of all versions: equal keys, same analyzers."""
    blob = json.dumps(sorted(versions.items()), separators=(",", ":"))
    return hashlib.blake2b(blob.encode(), digest_size=8).hexdigest()


# Text ----------------------------------------------------------------------------------------

_HTML_DROP = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
# Code blocks become Markdown fences and inline code backticks: the analyzers already ignore
# code written that way, and code must not count as language, sentiment or a question.
_HTML_PRE = re.compile(r"</?pre\b[^>]*>", re.IGNORECASE)
_HTML_CODE = re.compile(r"</?code\b[^>]*>", re.IGNORECASE)
# Block boundaries become line breaks, so words of two paragraphs do not run together.
_HTML_BLOCK = re.compile(
    r"<(?:br|/?p|/?div|/?li|/?ul|/?ol|/?h[1-6]|/?blockquote|/?tr|/?table|hr)\b[^>]*>",
    re.IGNORECASE,
)
_HTML_TAG = re.compile(r"<[^>]*>")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")


def html_to_text(body: str) -> str:
    """Plain text of an HTML body, for analysis only (never rendered)."""
    if "<" not in body and "&" not in body:
        return body
    text = _HTML_DROP.sub(" ", body)
    text = _HTML_PRE.sub("\n```\n", text)
    text = _HTML_CODE.sub("`", text)
    text = _HTML_BLOCK.sub("\n", text)
    text = _HTML_TAG.sub("", text)
    # A fenced block keeps its inline-code backticks, which would end the fence's code early.
    text = text.replace("```\n`", "```\n").replace("`\n```", "\n```")
    return _BLANK_LINES.sub("\n\n", html.unescape(text)).strip()


# Statistics ----------------------------------------------------------------------------------


@dataclass
class EnrichStats:
    """What a run did and where its time went."""

    interactions: int = 0
    analyzed: int = 0
    seconds: float = 0.0
    analyzer_seconds: dict[str, float] = field(default_factory=dict)
    # The pipeline's own stages in this process (wall time): finding the stale rows, reading
    # and preparing them, writing, the inbox's and the rollups' refresh. With worker
    # processes they overlap the analysis; in one process they are most of the overhead.
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def add(self, other: EnrichStats) -> None:
        self.interactions += other.interactions
        self.analyzed += other.analyzed
        self.seconds += other.seconds
        for name, seconds in other.analyzer_seconds.items():
            self.analyzer_seconds[name] = self.analyzer_seconds.get(name, 0.0) + seconds
        for name, seconds in other.stage_seconds.items():
            self.charge(name, seconds)

    def charge(self, stage: str, seconds: float) -> None:
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds

    @property
    def analyzers_total(self) -> float:
        return sum(self.analyzer_seconds.values())

    @property
    def overhead(self) -> float:
        """Time spent outside the analyzers: reading, preparing, writing."""
        return max(self.seconds - self.analyzers_total, 0.0)

    @property
    def texts_per_second(self) -> float:
        return self.analyzed / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "interactions": self.interactions,
            "analyzed": self.analyzed,
            "seconds": round(self.seconds, 3),
            "texts_per_second": round(self.texts_per_second, 1),
            "analyzer_seconds": {k: round(v, 3) for k, v in self.analyzer_seconds.items()},
            "overhead_seconds": round(self.overhead, 3),
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
        }


# Finding work --------------------------------------------------------------------------------


# Only interactions of these kinds are enriched (a constant fragment; the kinds are parameters).
_WITH_WORDS = f" AND i.kind IN ({', '.join(['%s'] * len(TEXT_KINDS))})"
_TEXT_KINDS = sorted(TEXT_KINDS)


def _stale_where(since: datetime | None) -> tuple[str, list[Any]]:
    """The rows to look at: all, or only those an import wrote since a moment (an index range
    on imported_at instead of a walk over every interaction). The SQL fragment is a constant:
    only the time is a parameter. As a list of ids: with `imported_at >= %s` beside
    `id > %s ... ORDER BY id`, SQLite walked the primary key from the first id, reading the
    whole table (1 s at 2 M) to reach the few rows an import wrote."""
    if since is None:
        return _WITH_WORDS, [*_TEXT_KINDS]
    imported = " AND i.id IN (SELECT n.id FROM community_interaction n WHERE n.imported_at >= %s)"
    return _WITH_WORDS + imported, [*_TEXT_KINDS, since]


def find_stale(
    limit: int, *, after: int = 0, key: str | None = None, since: datetime | None = None
) -> list[int]:
    """Ids of interactions with no Enrichment, an outdated one, or one older than an edit;
    in id order, from after the id `after`; with `since`, only among those imported since."""
    key = key or version_key(current_versions())
    scope, params = _stale_where(since)
    sql = (
        "SELECT i.id FROM community_interaction i"  # noqa: S608 (scope is a constant)
        " LEFT JOIN listening_enrichment e ON e.interaction_id = i.id"
        f" WHERE i.id > %s{scope} AND (e.interaction_id IS NULL OR e.version_key <> %s"
        " OR e.content_hash <> i.content_hash)"
        " ORDER BY i.id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [after, *params, key, limit])
        return [row[0] for row in cursor.fetchall()]


def count_stale(*, key: str | None = None, since: datetime | None = None) -> int:
    key = key or version_key(current_versions())
    scope, params = _stale_where(since)
    sql = (
        "SELECT COUNT(*) FROM community_interaction i"  # noqa: S608 (scope is a constant)
        " LEFT JOIN listening_enrichment e ON e.interaction_id = i.id"
        " WHERE (e.interaction_id IS NULL OR e.version_key <> %s"
        f" OR e.content_hash <> i.content_hash){scope}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, *params])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _ids_after(limit: int, after: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.id FROM community_interaction i"  # noqa: S608 (a constant fragment)
            f" WHERE i.id > %s{_WITH_WORDS} ORDER BY i.id LIMIT %s",
            [after, *_TEXT_KINDS, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def enrich_pending(
    *,
    rebuild: bool = False,
    limit: int | None = None,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    since: datetime | None = None,
) -> EnrichStats:
    """Enrich every stale interaction (every interaction with `rebuild`), batch by batch,
    until none is left or `limit` are done. `progress(done_in_batch, total)` after each batch.

    With `workers` > 1 and enough to do, the analyzers run in that many worker processes while
    this one reads the next batch and writes the previous: the analyzers are CPU-bound Python,
    so this is how a run uses more than one core.

    With `since`, only interactions imported (created or edited) since that moment are looked
    at: the enrichment an import queues, which need not walk the whole history."""
    with _heap_frozen():
        return _enrich_pending(rebuild, limit, batch_size, progress, workers, since)


@contextmanager
def _heap_frozen() -> Iterator[None]:
    """Every object alive before this block is out of the garbage collector's sight during
    it: the models, Django's state, an import that ran in this process. A run allocates
    millions of objects, so the collector runs often, and each full pass walked that whole
    heap again (after an import of 50,000 messages, 0.3-0.4 s of a 6 s run). Objects of the
    run itself are collected as usual; what was frozen is handed back at the end."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _enrich_pending(
    rebuild: bool,
    limit: int | None,
    batch_size: int | None,
    progress: Callable[[int, int], None] | None,
    workers: int,
    since: datetime | None,
) -> EnrichStats:
    started = time.perf_counter()
    batch_size = batch_size or settings.ENRICH_BATCH_SIZE
    versions = current_versions()
    key = version_key(versions)
    total = 0
    if progress or workers > 1:
        total = _count_all() if rebuild else count_stale(key=key, since=since)
        total = min(total, limit) if limit else total
    parallel = _parallel(workers) if workers > 1 and total >= PARALLEL_FROM else None
    stats = EnrichStats()
    inbox = _InboxChanges()
    times: set[Any] = set()  # times of the rows relabelled, for the metrics' rollups
    clock = time.perf_counter

    def finish(
        batch: _Batch, results: list[dict[str, dict[str, Any]]], seconds: dict[str, float]
    ) -> None:
        t = clock()
        relabelled = _write(batch, results, versions)
        inbox.add(batch, relabelled)
        times.update(r.created_at for r in relabelled)
        stats.add(_batch_stats(batch, seconds, 0.0))
        stats.charge("writing", clock() - t)
        if progress:
            progress(len(batch.rows), total)

    try:
        swept_clean = False
        done = 0
        while not swept_clean:
            # A sweep walks the ids once; rows edited behind it (by an import running
            # meanwhile) are caught by one more sweep, which finds nothing in the usual case.
            after = 0
            done_in_sweep = 0
            while True:
                size = batch_size if limit is None else min(batch_size, limit - done)
                if size <= 0:
                    break
                t = clock()
                ids = (
                    _ids_after(size, after)
                    if rebuild
                    else find_stale(size, after=after, key=key, since=since)
                )
                stats.charge("finding", clock() - t)
                if not ids:
                    break
                t = clock()
                batch = _prepare(ids)
                stats.charge("reading", clock() - t)
                done += len(ids)
                done_in_sweep += len(ids)
                after = ids[-1]
                if parallel is None:
                    results, analyzer_seconds = analyze_texts(*batch.analyzer_input())
                    finish(batch, results, analyzer_seconds)
                    continue
                parallel.submit(batch)
                # One batch in the workers while the previous one is written.
                if parallel.in_flight > 1:
                    batch, results, analyzer_seconds = parallel.collect()
                    finish(batch, results, analyzer_seconds)
            while parallel is not None and parallel.in_flight:
                batch, results, analyzer_seconds = parallel.collect()
                finish(batch, results, analyzer_seconds)
            swept_clean = rebuild or done_in_sweep == 0 or limit is not None
    finally:
        if parallel is not None:
            parallel.discard_pending()
        t = clock()
        inbox.refresh()
        stats.charge("inbox", clock() - t)
        t = clock()
        refresh_rollups(times)
        stats.charge("rollups", clock() - t)
    stats.seconds = time.perf_counter() - started
    return stats


# Below this many interactions to do, starting worker processes (and loading the models in
# each) costs more than it saves.
PARALLEL_FROM = 5000


_POOLS: dict[int, _Parallel] = {}
# The worker warms its pool up in a thread while it may already run an enrichment task.
_POOLS_LOCK = threading.Lock()
# What warming up analyses: a question, a thanks, another language, and a short text the
# language analyzer is unsure of (which loads lingua's models).
WARM_UP_TEXTS = (
    "Is there a way to export the dashboard as a PDF?",
    "Thanks a lot, that fixed it!",
    "Bonjour, je ne trouve pas comment changer la langue de l'interface.",
    "ok",
)


def _parallel(workers: int) -> _Parallel:
    """The process's pool of `workers` analyzer processes, started on first use and kept:
    each loads the models once (lingua's take seconds), so a long-running worker pays that
    once, not on every run."""
    with _POOLS_LOCK:
        pool = _POOLS.get(workers)
        if pool is None or pool.broken:
            if not _POOLS:
                # Stopped before the interpreter tears down the modules the pool's exit code
                # needs; left to the garbage collector, it prints an "Exception ignored" trace.
                atexit.register(shutdown_workers)
            pool = _POOLS[workers] = _Parallel(workers)
        return pool


def warm_up(workers: int) -> float:
    """Load the analyzers' models in this process (small runs analyse here) and, with
    `workers` > 1, start the analyzer processes and load theirs: what `townsquare worker`
    does as it starts, so that the first import after a start is enriched as fast as the
    next ones. Seconds taken."""
    started = time.perf_counter()
    texts = list(WARM_UP_TEXTS)
    analyze_texts(texts, [None] * len(texts))
    if workers > 1:
        pool = _parallel(workers).pool
        # One job a process: each is busy loading its models while the others are handed out.
        jobs = [pool.submit(analyze_in_worker, texts, [None] * len(texts)) for _ in range(workers)]
        for job in jobs:
            job.result()
    return time.perf_counter() - started


def analyze_in_worker(texts: list[str], corrected_languages: list[str | None]) -> _Analyzed:
    """`analyze_texts` in an analyzer process. After its first batch, which loaded the
    models, what the process holds is frozen out of the garbage collector's sight for good
    (`_heap_frozen`): the process does nothing but analyse, and its models live as long
    as it does."""
    answer = analyze_texts(texts, corrected_languages)
    if not gc.get_freeze_count():
        gc.collect()  # what the loading left as garbage is not kept forever
        gc.freeze()
    return answer


def shutdown_workers() -> None:
    """Stop the analyzer processes (they stop with this process anyway)."""
    for pool in _POOLS.values():
        pool.pool.shutdown(wait=True, cancel_futures=True)
    _POOLS.clear()


class _Parallel:
    """Worker processes that run `analyze_texts` on slices of each batch."""

    def __init__(self, workers: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: a forked copy of a process whose analyzers started threads (lingua
        # runs a thread pool) can hang; and no database connection is shared by accident.
        self.workers = workers
        from townsquare.lib.tasks import setup_worker_process

        self.pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=setup_worker_process,
        )
        self.queue: deque[tuple[_Batch, list[Future[_Analyzed]]]] = deque()

    @property
    def in_flight(self) -> int:
        return len(self.queue)

    def submit(self, batch: _Batch) -> None:
        texts, languages = batch.analyzer_input()
        step = max(1, -(-len(texts) // self.workers))
        futures = [
            self.pool.submit(analyze_in_worker, texts[i : i + step], languages[i : i + step])
            for i in range(0, len(texts), step)
        ]
        self.queue.append((batch, futures))

    def collect(self) -> tuple[_Batch, list[dict[str, dict[str, Any]]], dict[str, float]]:
        batch, futures = self.queue.popleft()
        results: list[dict[str, dict[str, Any]]] = []
        seconds: dict[str, float] = {}
        for future in futures:
            part, part_seconds = future.result()
            results.extend(part)
            for name, value in part_seconds.items():
                seconds[name] = seconds.get(name, 0.0) + value
        return batch, results, seconds

    @property
    def broken(self) -> bool:
        return bool(getattr(self.pool, "_broken", False))

    def discard_pending(self) -> None:
        """After an error: forget the batches in flight (they were not written)."""
        for _batch, futures in self.queue:
            for future in futures:
                future.cancel()
        self.queue.clear()


def _count_all() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM community_interaction i"  # noqa: S608 (a constant fragment)
            f" WHERE 1 = 1{_WITH_WORDS}",
            _TEXT_KINDS,
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


# One batch -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    id: int
    kind: str
    text: str
    source_id: int
    member_id: int | None
    content_hash: str
    created_at: Any  # as the database returns it
    conversation_id: int | None
    parent_member_id: int | None
    platform: str
    # The labels other tables count (see _Labels) as the row had them; None: never enriched.
    before: _Labels | None


@dataclass(frozen=True, slots=True)
class _Labels:
    """The labels that other tables are computed from: the metrics' rollups (sentiment and
    keywords of analyzed messages) and the inbox (a conversation's first message's question,
    language and sentiment). A row whose labels are the same as before changes neither, so
    those are refreshed for the rows whose labels changed only: a re-enrichment after a new
    spam model recounts nothing."""

    analyzed: bool
    language: str
    sentiment_label: str
    sentiment: float | None
    is_question: bool
    keywords: str

    @classmethod
    def of(cls, values: Sequence[Any]) -> _Labels:
        """From (analyzed, language, sentiment_label, sentiment, is_question, keywords) as
        stored (SQLite's 0/1 for booleans, NULL language) or as a row about to be."""
        analyzed, language, label, sentiment, is_question, keywords = values
        return cls(
            bool(analyzed),
            language or "",
            label or "",
            None if sentiment is None else float(sentiment),
            bool(is_question),
            keywords if isinstance(keywords, str) else _json(keywords),
        )

    def counts_as(self, other: _Labels) -> bool:
        """Whether both count the same everywhere: keywords compared as lists (PostgreSQL
        writes jsonb back in its own spelling)."""
        if self == other:
            return True
        return replace(self, keywords="") == replace(other, keywords="") and json.loads(
            self.keywords
        ) == json.loads(other.keywords)


_LABEL_COLUMNS = ("analyzed", "language", "sentiment_label", "sentiment", "is_question", "keywords")
_LABEL_INDEX = [_COLUMN_INDEX[name] for name in _LABEL_COLUMNS]


def _chunks(items: Sequence[int], size: int = LOOKUP_CHUNK) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# A batch's rows, with what `_write` and the analyzers need and the labels they had (the
# enrichment's columns are NULL for a row never enriched).
_READ = (
    "SELECT i.id, i.kind, i.text, i.source_id, i.member_id, i.content_hash,"  # noqa: S608
    " i.created_at, i.conversation_id, p.member_id, s.platform, o.interaction_id, "
    + ", ".join(f"o.{c}" for c in _LABEL_COLUMNS)
    + " FROM community_interaction i"
    " JOIN community_source s ON s.id = i.source_id"
    " LEFT JOIN community_interaction p ON p.id = i.parent_id"
    " LEFT JOIN listening_enrichment o ON o.interaction_id = i.id"
)


def _read(ids: Sequence[int]) -> list[_Row]:
    rows: list[_Row] = []
    with connection.cursor() as cursor:
        for chunk in _chunks(ids):
            placeholders = ", ".join(["%s"] * len(chunk))
            cursor.execute(_READ + " WHERE i.id IN (" + placeholders + ")", list(chunk))
            for row in cursor.fetchall():
                rows.append(
                    _Row(
                        id=row[0],
                        kind=row[1],
                        text=row[2],
                        source_id=row[3],
                        member_id=row[4],
                        content_hash=row[5],
                        created_at=row[6],
                        conversation_id=row[7],
                        parent_member_id=row[8],
                        platform=row[9],
                        before=None if row[10] is None else _Labels.of(row[11:]),
                    )
                )
    rows.sort(key=lambda r: r.id)
    return rows


def latest_corrections(ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """interaction id -> {field: value} of the latest correction of each field."""
    found: dict[int, dict[str, Any]] = defaultdict(dict)
    if not ids:
        return found
    wanted = set(ids)
    # Corrections are rare: one range scan of the index over the batch's ids beats a long
    # IN list (whose ORM processing alone costs more than the query).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT interaction_id, field, value FROM listening_labelcorrection"
            " WHERE interaction_id BETWEEN %s AND %s ORDER BY created_at, id",
            [min(ids), max(ids)],
        )
        # Both backends hand a raw cursor the JSON as text: Django has psycopg load jsonb
        # as text so that JSONField can decode it, and SQLite stores text.
        for interaction_id, name, value in cursor.fetchall():
            if interaction_id in wanted:
                found[interaction_id][name] = json.loads(value) if isinstance(value, str) else value
    return found


def prepared_text(text: str, platform: str) -> str:
    """The text the analyzers see: HTML bodies as plain text, a mail's own words (what it
    quotes of earlier mail belongs to their writers: its question is not this reply's, its
    words not this reply's keywords)."""
    if platform in HTML_PLATFORMS:
        return html_to_text(text)
    if platform in MAIL_PLATFORMS:
        return own_words(text)
    return text


@dataclass
class _Batch:
    """One batch read and prepared: what the analyzers get and what writing needs."""

    rows: list[_Row]
    corrections: dict[int, dict[str, Any]]
    texts: dict[int, str]  # full prepared text of the analyzed rows, for term matching
    analyzed: list[_Row]

    def analyzer_input(self) -> tuple[list[str], list[str | None]]:
        texts = [self.texts[r.id][:MAX_ANALYZED_CHARS] for r in self.analyzed]
        languages = [
            self.corrections.get(r.id, {}).get(CorrectableField.LANGUAGE) for r in self.analyzed
        ]
        return texts, languages


def _prepare(interaction_ids: Sequence[int]) -> _Batch:
    rows = _read(interaction_ids)
    corrections = latest_corrections([r.id for r in rows]) if rows else {}
    texts: dict[int, str] = {}
    analyzed: list[_Row] = []
    for r in rows:
        if r.kind in TEXT_KINDS and r.text.strip():
            text = prepared_text(r.text, r.platform)
            if text.strip():
                texts[r.id] = text
                analyzed.append(r)
    return _Batch(rows, corrections, texts, analyzed)


def enrich_batch(
    interaction_ids: Sequence[int], *, versions: dict[str, str] | None = None
) -> EnrichStats:
    """Enrich these interactions (any that no longer exist are skipped) and write the rows."""
    started = time.perf_counter()
    versions = versions or current_versions()
    batch = _prepare(interaction_ids)
    results, seconds = analyze_texts(*batch.analyzer_input())
    relabelled = _write(batch, results, versions)
    inbox = _InboxChanges()
    inbox.add(batch, relabelled)
    inbox.refresh()
    refresh_rollups(r.created_at for r in relabelled)
    return _batch_stats(batch, seconds, time.perf_counter() - started)


@dataclass
class _InboxChanges:
    """What a run changed of the inbox's conversation states (townsquare/inbox/rollup.py):
    the conversations of messages enriched for the first time are recounted whole (a new
    message may be a conversation's first response; the import leaves those to the
    enrichment that follows it); a message relabelled since has only its labels copied."""

    new_in: set[int] = field(default_factory=set)
    relabelled: list[tuple[int, int | None]] = field(default_factory=list)

    def add(self, batch: _Batch, relabelled: list[_Row]) -> None:
        self.new_in.update(
            r.conversation_id for r in batch.rows if r.before is None and r.conversation_id
        )
        self.relabelled.extend((r.id, r.conversation_id) for r in relabelled)

    def refresh(self) -> None:
        """Also after a failed run, for the batches written."""
        if self.new_in:
            refresh_states(self.new_in)
        refresh_labels([m for m in self.relabelled if m[1] not in self.new_in])


def refresh_rollups(times: Iterable[Any]) -> None:
    """Recount the metrics' rollups of the hours and days of these rows' times: they hold
    sentiment labels and keywords (townsquare/metrics/rollups.py). Also after a failed run,
    for the batches written."""
    from townsquare.metrics.rollups import refresh_times

    refresh_times(times, labels_only=True)


def _batch_stats(batch: _Batch, analyzer_seconds: dict[str, float], seconds: float) -> EnrichStats:
    return EnrichStats(
        interactions=len(batch.rows),
        analyzed=len(batch.analyzed),
        seconds=seconds,
        analyzer_seconds=analyzer_seconds,
    )


def _write(
    batch: _Batch, results: list[dict[str, dict[str, Any]]], versions: dict[str, str]
) -> list[_Row]:
    """Turn the analyzers' results into rows, apply corrections, write it all at once.
    Returns the rows whose labels changed (`_Labels`), for the tables counted from them."""
    if not batch.rows:
        return []
    enriched_at = connection.ops.adapt_datetimefield_value(timezone.now())
    fixed: dict[str, Any] = {
        "versions": _json(versions),
        "version_key": version_key(versions),
        "enriched_at": enriched_at,
    }
    by_id: dict[int, list[Any]] = {}
    thanked: list[tuple[_Row, list[str]]] = []
    versions_and_key = (fixed["versions"], fixed["version_key"])
    for r, result in zip(batch.analyzed, results, strict=True):
        by_id[r.id] = _analyzed_row(r, result, versions_and_key, enriched_at)
        if result["gratitude"].get("is_gratitude") and r.member_id is not None:
            thanked.append((r, list(result["gratitude"].get("mentions") or [])))
    template = [fixed.get(name, _UNANALYZED.get(name)) for name in COLUMNS]
    values: list[list[Any]] = []
    for r in batch.rows:
        row = by_id.get(r.id)
        if row is None:
            row = by_id[r.id] = template.copy()
            row[0] = r.id
            row[_MEMBER_ID] = r.member_id
            row[_CONTENT_HASH] = r.content_hash
        values.append(row)
    for interaction_id, fields in batch.corrections.items():
        _apply_corrections(by_id[interaction_id], fields)

    thanks = _thanks(thanked)
    terms = _active_terms()
    matches = _term_matches(batch.texts, terms)
    ids = [r.id for r in batch.rows]
    # Thanks and term matches are written with an interaction's enrichment: one enriched for
    # the first time has none to replace.
    enriched = [r.id for r in batch.rows if r.before is not None]
    with transaction.atomic():
        _upsert(values)
        _replace_thanks(enriched, thanks)
        if terms:
            _replace_matches(enriched, matches, terms)
        # In the same transaction: a batch is never enriched without its flags.
        from townsquare.moderation.services import flag_interactions

        c = _COLUMN_INDEX
        labels = {
            r.id: (
                bool(by_id[r.id][c["is_toxic"]]),
                by_id[r.id][c["toxicity"]],
                bool(by_id[r.id][c["is_spam"]]),
                by_id[r.id][c["spam"]],
            )
            for r in batch.rows
            if r.kind in TEXT_KINDS
        }
        flag_interactions(ids, prepared=batch.texts, labels=labels)
    return _relabelled(batch, by_id)


def _relabelled(batch: _Batch, by_id: dict[int, list[Any]]) -> list[_Row]:
    """The batch's rows whose labels (`_Labels`) are not what they were."""
    found: list[_Row] = []
    for r in batch.rows:
        row = by_id[r.id]
        if r.before is None:
            # Never enriched: as good as unanalyzed, unless analyzed now or corrected.
            if row[_ANALYZED] or r.id in batch.corrections:
                found.append(r)
        elif not _Labels.of([row[i] for i in _LABEL_INDEX]).counts_as(r.before):
            found.append(r)
    return found


_Analyzed = tuple[list[dict[str, dict[str, Any]]], dict[str, float]]


def analyze_texts(
    texts: list[str], corrected_languages: list[str | None]
) -> tuple[list[dict[str, dict[str, Any]]], dict[str, float]]:
    """Per text: analyzer name -> its result; and each analyzer's seconds. Language first:
    the others are given it (or the language a person corrected it to). Pure: no database,
    so it also runs in the worker processes of a parallel run."""
    results: list[dict[str, dict[str, Any]]] = [{} for _ in texts]
    seconds: dict[str, float] = {}
    if not texts:
        return results, seconds
    clock = time.perf_counter
    t = clock()
    detected = get_analyzer("language").analyze([TextItem(text) for text in texts])
    seconds["language"] = clock() - t
    items: list[TextItem] = []
    for text, corrected, result, out in zip(
        texts, corrected_languages, detected, results, strict=True
    ):
        out["language"] = result
        # A person's correction is taken as given (no confidence), a detection with its own.
        confidence = None if corrected else result.get("confidence")
        items.append(TextItem(text, corrected or result.get("language"), confidence))
    for name in ANALYZERS:
        if name == "language":
            continue
        t = clock()
        answers = get_analyzer(name).analyze(items)
        seconds[name] = clock() - t
        if len(answers) != len(items):
            raise RuntimeError(
                f"analyzer {name!r} returned {len(answers)} results for {len(items)} texts"
            )
        for out, answer in zip(results, answers, strict=True):
            out[name] = answer
    return results, seconds


def _flag(result: dict[str, Any], *names: str) -> bool:
    for name in names:
        if name in result:
            return bool(result[name])
    return False


def _analyzed_row(
    r: _Row,
    result: dict[str, dict[str, Any]],
    versions_and_key: tuple[str, str],
    enriched_at: Any,
) -> list[Any]:
    """An analyzed message's row, in the order of COLUMNS (a change there must be made here:
    tested), built at once: this runs for every message, and one list literal costs half what
    a copy of a template and 15 assignments did."""
    language = result["language"]
    sentiment = result["sentiment"]
    question = result["question"]
    emotion = result.get("emotion", {})
    toxicity = result.get("toxicity", {})
    spam = result.get("spam", {})
    compound = sentiment.get("compound")
    return [
        r.id,
        r.member_id,
        True,
        language.get("language"),
        float(language.get("confidence") or 0.0),
        None if compound is None else float(compound),
        str(sentiment.get("label") or UNSUPPORTED),
        _flag(question, "is_question", "flag"),
        float(question.get("score") or 0.0),
        _flag(result["gratitude"], "is_gratitude", "flag"),
        str(emotion.get("label") or ""),
        _json(emotion.get("scores") or {}),
        float(toxicity.get("score") or 0.0),
        _flag(toxicity, "flag", "is_toxic"),
        float(spam.get("score") or 0.0),
        _flag(spam, "flag", "is_spam"),
        _json(list(result["keywords"].get("keywords") or [])),
        *versions_and_key,
        r.content_hash,
        "[]",  # corrected: set by _apply_corrections
        enriched_at,
    ]


_ANALYZED = _COLUMN_INDEX["analyzed"]
_MEMBER_ID = _COLUMN_INDEX["member_id"]
_CONTENT_HASH = _COLUMN_INDEX["content_hash"]


def _apply_corrections(row: list[Any], fields: dict[str, Any]) -> None:
    c = _COLUMN_INDEX
    for name, value in fields.items():
        row[c[name]] = value
    row[c["corrected"]] = _json(sorted(fields))


# Rows per INSERT on SQLite: one statement of many rows instead of one per row, under its
# limit of 32,766 parameters.
UPSERT_ROWS = 500
# PostgreSQL: the rows are copied into this temporary table, then upserted from it in one
# statement. psycopg adapts a statement's parameters one by one in Python (0.7 s for 5,000
# rows of 22 columns); COPY sends them in bulk (0.13 s).
_STAGE = "listening_enrichment_stage"


def _upsert(values: list[list[Any]]) -> None:
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
    columns = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE}"
                " (LIKE listening_enrichment INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            with cursor.cursor.copy(f"COPY {_STAGE} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO listening_enrichment ({columns}) SELECT {columns} FROM {_STAGE}"  # noqa: S608
                f" ON CONFLICT (interaction_id) DO UPDATE SET {updates}"
            )
            cursor.execute(f"TRUNCATE {_STAGE}")
            return
        row_marks = "(" + ", ".join(["?"] * len(COLUMNS)) + ")"
        for start in range(0, len(values), UPSERT_ROWS):
            chunk = values[start : start + UPSERT_ROWS]
            execute_sqlite(
                cursor,
                f"INSERT INTO listening_enrichment ({columns})"  # noqa: S608
                f" VALUES {', '.join([row_marks] * len(chunk))}"
                f" ON CONFLICT (interaction_id) DO UPDATE SET {updates}",
                [value for r in chunk for value in r],
            )


# Thanks --------------------------------------------------------------------------------------


# A Thanks row as written: interaction, from member, to member, the message's time (as read).
_ThanksRow = tuple[int, int, int, Any]


def _thanks(thanked: list[tuple[_Row, list[str]]]) -> list[_ThanksRow]:
    """Whom each gratitude message thanks: the members it mentions, or else the author of the
    message it replies to; never its own author."""
    if not thanked:
        return []
    members = _mentioned_members(thanked)
    chosen: list[tuple[_Row, int, set[int]]] = []
    for r, names in thanked:
        author = r.member_id
        if author is None:
            continue
        targets = {members[(r.source_id, n)] for n in names if (r.source_id, n) in members}
        if not targets and r.parent_member_id is not None:
            targets = {r.parent_member_id}
        targets.discard(author)  # nobody is credited for thanking themselves
        chosen.append((r, author, targets))
    # A chat thread's replies all point at its first message, often the thanker's own
    # question: then the thanks go to whoever spoke last in the thread before them.
    previous = _previous_speakers([(r, author) for r, author, targets in chosen if not targets])
    found: list[_ThanksRow] = []
    for r, author, targets in chosen:
        if not targets and r.id in previous:
            targets = {previous[r.id]}
        found.extend((r.id, author, to_member, r.created_at) for to_member in sorted(targets))
    return found


def _previous_speakers(wanting: list[tuple[_Row, int]]) -> dict[int, int]:
    """Interaction id -> the member who last wrote before it in its conversation, not its
    author; one query per chunk of conversations, through the cursor: its times come back
    as the batch's own (read the same way), so they compare as they are."""
    wanting = [(r, author) for r, author in wanting if r.conversation_id is not None]
    if not wanting:
        return {}
    conversations = sorted({r.conversation_id for r, _ in wanting if r.conversation_id})
    latest = max(r.created_at for r, _ in wanting)
    history: dict[int, list[tuple[Any, int, int]]] = defaultdict(list)
    with connection.cursor() as cursor:
        for chunk in _chunks(conversations):
            cursor.execute(
                "SELECT i.conversation_id, i.id, i.created_at, i.member_id"  # noqa: S608
                " FROM community_interaction i"
                f" WHERE i.conversation_id IN ({', '.join(['%s'] * len(chunk))}){_WITH_WORDS}"
                " AND i.member_id IS NOT NULL AND i.created_at <= %s"
                " ORDER BY i.created_at, i.id",
                [*chunk, *_TEXT_KINDS, latest],
            )
            for conversation_id, interaction_id, created_at, member_id in cursor.fetchall():
                history[conversation_id].append((created_at, interaction_id, member_id))
    found: dict[int, int] = {}
    for r, author in wanting:
        when = r.created_at
        speaker = None
        for created_at, interaction_id, member_id in history.get(r.conversation_id or 0, []):
            if created_at > when:
                break
            if interaction_id != r.id and member_id != author:
                speaker = member_id
        if speaker is not None:
            found[r.id] = speaker
    return found


def _mentioned_members(thanked: list[tuple[_Row, list[str]]]) -> dict[tuple[int, str], int]:
    """(source id, name as written) -> member, by the identity's external id or handle."""
    wanted: dict[int, set[str]] = defaultdict(set)
    for r, names in thanked:
        wanted[r.source_id].update(names)
    found: dict[tuple[int, str], int] = {}
    for source_id, wanted_names in wanted.items():
        if not wanted_names:
            continue
        candidates = wanted_names | {n.lower() for n in wanted_names}
        identities = Identity.objects.filter(source_id=source_id).filter(
            Q(external_id__in=candidates) | Q(handle__in=candidates)
        )
        by_ext: dict[str, int] = {}
        by_handle: dict[str, int] = {}
        for external_id, handle, member_id in identities.values_list(
            "external_id", "handle", "member_id"
        ):
            by_ext[external_id] = member_id
            if handle:
                by_handle[handle.lower()] = member_id
        for name in wanted_names:
            member = by_ext.get(name) or by_handle.get(name.lower())
            if member is not None:
                found[(source_id, name)] = member
    return found


def _delete_for(table: str, ids: list[int], extra: str = "", params: Sequence[Any] = ()) -> None:
    """Delete the rows of these interactions; through the cursor: the ORM spends longer
    preparing a long IN list than the database spends on the query."""
    with connection.cursor() as cursor:
        for chunk in _chunks(ids):
            cursor.execute(
                f"DELETE FROM {table} WHERE interaction_id IN ({', '.join(['%s'] * len(chunk))})"  # noqa: S608
                + extra,
                [*chunk, *params],
            )


def _replace_thanks(ids: list[int], thanks: list[_ThanksRow]) -> None:
    _delete_for("listening_thanks", ids)
    if thanks:
        # Through the cursor: a batch has dozens of thanks, and bulk_create's model instances
        # cost more than the inserts. The time goes back as it was read.
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO listening_thanks"
                " (interaction_id, from_member_id, to_member_id, created_at)"
                " VALUES (%s, %s, %s, %s)",
                thanks,
            )


# Tracked terms -------------------------------------------------------------------------------


def normalize_term(term: str, kind: str) -> str:
    """How a term is stored: trimmed, single spaces; a hashtag with its #."""
    term = " ".join(term.split())
    if kind == TermKind.HASHTAG and term and not term.startswith("#"):
        term = "#" + term
    return term


def _term_key(text: str) -> str:
    return " ".join(text.split()).casefold()


@lru_cache(maxsize=8)
def _term_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so "open source" wins over "open" where both are tracked; word boundaries
    # by look-around, which also works for terms that start or end with a symbol (#tag, C++).
    alternatives = sorted(terms, key=len, reverse=True)
    body = "|".join(r"\s+".join(re.escape(word) for word in t.split()) for t in alternatives)
    return re.compile(rf"(?<![\w#])(?:{body})(?!\w)", re.IGNORECASE)


def term_index(terms: Iterable[tuple[int, str]]) -> dict[str, list[int]]:
    """Normalised term -> ids of the (id, term) pairs spelled that way, for `find_terms`."""
    index: dict[str, list[int]] = defaultdict(list)
    for term_id, term in terms:
        if term.strip():
            index[_term_key(term)].append(term_id)
    return index


def _active_terms() -> dict[str, list[int]]:
    """Normalised term -> ids of the active tracked terms spelled that way."""
    return term_index(TrackedTerm.objects.filter(is_active=True).values_list("id", "term"))


def find_terms(text: str, terms: dict[str, list[int]]) -> set[int]:
    """Ids of the terms that occur in the text, case-insensitively, as whole words."""
    if not terms:
        return set()
    pattern = _term_pattern(tuple(sorted(terms)))
    found: set[int] = set()
    for match in pattern.finditer(text):
        found.update(terms.get(_term_key(match.group(0)), ()))
    return found


def _term_matches(texts: dict[int, str], terms: dict[str, list[int]]) -> list[TermMatch]:
    if not terms:
        return []
    return [
        TermMatch(term_id=term_id, interaction_id=interaction_id)
        for interaction_id, text in texts.items()
        for term_id in sorted(find_terms(text, terms))
    ]


def _replace_matches(ids: list[int], matches: list[TermMatch], terms: dict[str, list[int]]) -> None:
    # Only the active terms' matches are redone: a paused term keeps what it had found.
    active = [term_id for term_ids in terms.values() for term_id in term_ids]
    _delete_for(
        "listening_termmatch", ids, f" AND term_id IN ({', '.join(['%s'] * len(active))})", active
    )
    if matches:
        TermMatch.objects.bulk_create(matches, ignore_conflicts=True)


def mentions(term: str, *, batch_size: int = 5000) -> Iterator[list[int]]:
    """Ids of the interactions that mention the term (as `find_terms` matches it), in id
    order, a batch at a time: for a term added after the messages were enriched."""
    terms = {_term_key(term): [0]}
    # The database narrows the candidates (a case-insensitive substring: the longest word,
    # without a hashtag's #, which HTML bodies put in a separate element); the pattern decides.
    words = term.split() or [term]
    candidates = containing(max(words, key=len).lstrip("#"))
    after = 0
    while True:
        chunk = list(
            Interaction.objects.filter(candidates, id__gt=after, kind__in=TEXT_KINDS)
            .order_by("id")
            .values_list("id", "text", "source__platform")[:batch_size]
        )
        if not chunk:
            break
        after = chunk[-1][0]
        found = [
            interaction_id
            for interaction_id, text, platform in chunk
            if find_terms(prepared_text(text, platform), terms)
        ]
        if found:
            yield found


def match_term(term: TrackedTerm, *, batch_size: int = 5000) -> int:
    """Find a (new) tracked term in every interaction already enriched; returns the count."""
    found = 0
    for ids in mentions(term.term, batch_size=batch_size):
        matches = [TermMatch(term_id=term.id, interaction_id=i) for i in ids]
        TermMatch.objects.bulk_create(matches, ignore_conflicts=True)
        found += len(matches)
    return found
