"""`python -m benchmarks.members_pages`: server time of the member list and the member profile
with 100,000 members and 2,000,000 interactions, on SQLite or on PostgreSQL.

Builds a realistic community straight into the real tables (executemany on SQLite, COPY on
PostgreSQL, secondary indexes dropped during the load and rebuilt after), from a fixed seed:
five sources on five platforms with their channels; members with one to three identities; a
heavy-tailed activity (a few members with tens of thousands of interactions, many with a
handful, some with none); conversations with replies, reactions, answers and accepted answers;
one listening Enrichment per interaction with words (language, sentiment, keywords, labels); thanks,
tracked-term matches and label corrections; engagement levels computed by the real
`refresh_engagement`; tags, notes, touchpoints and what members taught the team.

Then it asks for the pages with Django's test client, in process, as a signed-in superuser:
server time is the time of `client.get` (middleware, view, SQL and template rendering). Each
page gets warm-up requests first, then the median and the 95th percentile of the timed ones,
and its SQL query count. `--reuse` keeps the data of an earlier run with the same sizes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import numpy as np
import numpy.typing as npt

DEFAULT_MEMBERS = 100_000
DEFAULT_INTERACTIONS = 2_000_000
DEFAULT_SEED = 20261123
DEFAULT_DATA_DIR = Path(tempfile.gettempdir()) / "townsquare-members-bench"
DEFAULT_OUT = Path(__file__).resolve().parent / "out"
# Databases the test suites use: the benchmark drops and refills its database, never these.
FORBIDDEN_DATABASES = frozenset({"test", "test_test", "postgres", "template0", "template1"})
TARGET_MS = 150.0
WARM_UP = 3
REPEAT = 20
BATCH = 50_000
SPAN_DAYS = 3 * 365

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# name, platform, share of members whose first identity is there, kinds and their weights,
# number of channels (rooms, tags, repositories, lists).
SOURCES: list[tuple[str, str, float, dict[str, int], int]] = [
    (
        "Community Slack",
        "slack",
        0.45,
        {"message": 60, "reply": 20, "reaction": 15, "join": 3, "share": 2},
        40,
    ),
    ("Discord", "discord", 0.20, {"message": 62, "reply": 18, "reaction": 18, "join": 2}, 25),
    (
        "Q&A",
        "stackexchange",
        0.15,
        {"post": 12, "answer": 20, "comment": 35, "vote": 20, "accepted": 5, "badge": 8},
        30,
    ),
    ("GitHub", "github", 0.12, {"post": 20, "comment": 55, "reaction": 20, "event": 5}, 12),
    ("Mailing list", "mbox", 0.08, {"post": 35, "reply": 65}, 3),
]
KINDS = [
    "message",
    "reply",
    "reaction",
    "join",
    "share",
    "post",
    "answer",
    "comment",
    "vote",
    "accepted",
    "badge",
    "event",
]
K = {name: n for n, name in enumerate(KINDS)}
# Kinds that always open a conversation; a chat message opens one OPENS_SHARE of the time and
# otherwise joins a recent conversation of its channel, as replies, answers and comments do.
OPENERS = frozenset({K["post"]})
RESPONSES = frozenset({K["reply"], K["answer"], K["comment"]})
OPENS_SHARE = 0.65
# Kinds that point at an earlier message (their parent) without text of their own.
POINTERS = frozenset({K["reaction"], K["vote"], K["accepted"]})
TEXT_KINDS = frozenset({K["message"], K["reply"], K["share"], K["post"], K["answer"], K["comment"]})
NO_CHANNEL = frozenset({K["badge"]})
LANGUAGES = {"en": 0.78, "es": 0.06, "de": 0.04, "fr": 0.04, "pt": 0.03, "ja": 0.02, "ru": 0.02}
REACTIONS = ["thumbsup", "tada", "heart", "eyes", "rocket", "pray", "joy", "100"]
EMOTIONS = ["neutral", "joy", "gratitude", "curiosity", "annoyance", "confusion", "admiration"]


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = _words(
    "Maria Ana Sofia Lucia Elena Laura Marta Paula Clara Julia Emma Olivia Ava Mia Amelia Harper "
    "Evelyn Abigail Emily Ella Chloe Grace Zoe Nora Lily Hannah Aria Layla Riley Zoey Lea Ines "
    "Camille Manon Chiara Giulia Alessia Anna Katarina Ingrid Astrid Freya Aiko Yuki Sakura Mei "
    "Priya Ananya Fatima Aisha Amira Leila Noor Olga Irina Natalia Tatiana Svetlana Ewa Zofia "
    "James John Robert Michael William David Richard Joseph Thomas Charles Daniel Matthew "
    "Anthony Mark Paul Steven Andrew Joshua Kevin Brian George Timothy Ryan Jacob Gary Nicholas "
    "Eric Jonathan Lucas Hugo Louis Arthur Jules Mateo Santiago Diego Pablo Javier Marco Luca "
    "Matteo Lorenzo Lars Erik Sven Bjorn Hiro Kenji Takeshi Wei Jun Min Raj Arjun Vikram Omar "
    "Youssef Karim Ivan Dmitri Sergei Piotr Jakub Tomasz Kwame Kofi Chidi Tunde Marius Mario"
)
LAST_NAMES = _words(
    "Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Perez Sanchez Ramirez Torres Flores "
    "Rivera Gomez Diaz Reyes Morales Smith Johnson Williams Brown Jones Miller Davis Wilson "
    "Anderson Taylor Thomas Moore Jackson Martin Lee Thompson White Harris Clark Lewis Walker "
    "Hall Allen Young King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts "
    "Carter Phillips Evans Turner Parker Collins Edwards Stewart Morris Murphy Cook Rogers "
    "Dubois Durand Lefebvre Moreau Laurent Simon Michel Rossi Russo Ferrari Esposito Bianchi "
    "Romano Colombo Ricci Marino Muller Schmidt Schneider Fischer Weber Meyer Wagner Becker "
    "Schulz Hoffmann Koch Richter Klein Wolf Schroder Neumann Nielsen Hansen Jensen Larsen "
    "Andersen Pedersen Johansson Karlsson Nilsson Eriksson Larsson Olsen Tanaka Suzuki "
    "Takahashi Watanabe Ito Yamamoto Nakamura Kobayashi Kato Wang Li Zhang Liu Chen Yang Huang "
    "Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo Patel Sharma Singh Kumar Gupta Shah Mehta Iyer Reddy "
    "Nair Khan Ali Hassan Hussein Ahmed Mohamed Ibrahim Ivanov Smirnov Kuznetsov Popov Sokolov "
    "Kowalski Nowak Wisniewski Wojcik Kaminski Okafor Mensah Adeyemi Owusu Silva Santos Oliveira "
    "Souza Costa Pereira Almeida Ferreira Carvalho Gomes Ribeiro Martins"
)
KEYWORDS = _words(
    "kubernetes docker helm terraform ansible postgres sqlite mysql redis kafka rabbitmq nginx "
    "caddy traefik grafana prometheus loki tempo opentelemetry tracing logging metrics alerting "
    "dashboard webhook oauth saml sso ldap jwt cookies sessions csrf cors tls certificates "
    "letsencrypt dns cdn caching migrations schema indexes queries orm transactions deadlock "
    "replication backup restore upgrade release changelog roadmap deprecation plugin extension "
    "theme templates markdown editor search pagination api graphql rest sdk cli python django "
    "flask fastapi celery asyncio typing mypy ruff pytest coverage fixtures mocking ci pipeline "
    "github-actions gitlab runners artifacts packaging wheels pip poetry uv conda virtualenv "
    "rust cargo wasm javascript typescript react vue svelte htmx css tailwind accessibility i18n "
    "translation localization timezone unicode emoji encoding csv json yaml toml xml parquet "
    "arrow pandas numpy jupyter notebook dataset model training inference embeddings llm prompt "
    "rag vector tokenizer gpu cuda memory leak profiling benchmark performance latency "
    "throughput scaling sharding partitioning load-balancer proxy websocket sse grpc protobuf "
    "mqtt iot raspberry arduino firmware bluetooth android ios mobile desktop electron tauri "
    "linux windows macos wsl homebrew apt systemd cron scheduler queue worker retries timeout "
    "rate-limit quota billing pricing license security vulnerability cve audit permissions "
    "roles onboarding documentation tutorial examples faq community meetup conference talk "
    "workshop hackathon mentorship contributor maintainer governance sponsorship newsletter "
    "blog video podcast feedback survey bug regression crash error stacktrace debugging "
    "feature request proposal rfc design architecture refactor monorepo microservices "
    "serverless lambda s3 storage uploads images thumbnails pdf export import sync offline "
    "notifications email smtp spam moderation analytics telemetry privacy gdpr consent"
)
FILLER = _words(
    "the a this that it we you they I our my your is was are be have has had do does did not "
    "can could would should will just also still now then here there when what how why which "
    "some any all more most very really quite about with without from into onto over under "
    "after before again once today tomorrow yesterday week month version setup config build "
    "deploy run test try use using used work working works broke broken fixed fix issue "
    "problem question answer idea thought note example case way thing part bit lot team "
    "project server client app service page file folder path line code docs guide step "
    "error warning message output input value option setting default change update new old "
    "first last next other same different good great nice fine ok simple hard easy fast slow "
    "big small right wrong sure maybe probably definitely anyone someone everyone nobody"
)


# Generation -----------------------------------------------------------------------------------


@dataclass
class Dataset:
    """The generated community, as the arrays the rows are written from."""

    members: int
    interactions: int
    end: datetime
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _zipf_choice(
    rng: np.random.Generator, n: int, size: int | tuple[int, ...], a: float = 1.1
) -> IntArray:
    weights = 1.0 / np.arange(1, n + 1) ** a
    return rng.choice(n, size=size, p=weights / weights.sum()).astype(np.int64)


def activity_counts(rng: np.random.Generator, members: int, interactions: int) -> IntArray:
    """Interactions per member, heavy-tailed: 15 % of members with none, 25 % with one to a
    few, the rest along a power law (rank ** -0.75) whose head has tens of thousands."""
    none = int(members * 0.15)
    light = int(members * 0.25)
    ranked = members - none - light
    light_counts = np.minimum(rng.geometric(0.6, light), 5).astype(np.int64)
    rest = interactions - int(light_counts.sum())
    weights = np.arange(1, ranked + 1, dtype=np.float64) ** -0.75
    # Jitter below the head, so equal ranks do not give equal counts.
    weights[20:] *= rng.lognormal(0.0, 0.35, ranked - 20) if ranked > 20 else 1.0
    ranked_counts = np.maximum(1, np.floor(weights / weights.sum() * rest)).astype(np.int64)
    diff = rest - int(ranked_counts.sum())
    order = np.argsort(-ranked_counts, kind="stable")
    if diff >= 0:
        ranked_counts[order[: diff % ranked]] += 1
        ranked_counts += diff // ranked
    else:
        ranked_counts[order[0]] += diff
    counts = np.zeros(members, dtype=np.int64)
    positions = rng.permutation(members)
    # The heaviest member gets a mid-range id: not the first row of any table.
    counts[positions[none + light :]] = ranked_counts
    counts[positions[none : none + light]] = light_counts
    assert int(counts.sum()) == interactions
    return counts


def _times_text(epoch_us: IntArray, *, postgres: bool) -> list[str]:
    """Stored text of UTC times: SQLite keeps Django's naive 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    text = np.datetime_as_string(epoch_us.astype("datetime64[us]"), unit="us")
    suffix = "+00:00" if postgres else ""
    return [t.replace("T", " ") + suffix for t in text.tolist()]


class Loader:
    """Writes rows into a table as fast as the engine takes them: sqlite3's executemany in one
    transaction, or PostgreSQL's COPY."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.dropped: list[str] = []

    def quote(self, name: str) -> str:
        return str(self.connection.ops.quote_name(name))

    def check_columns(self, model: Any, columns: Sequence[str]) -> None:
        expected = {f.column for f in model._meta.concrete_fields}
        if expected != set(columns):
            raise SystemExit(
                f"{model._meta.db_table}: the benchmark writes {sorted(columns)}, the model has "
                f"{sorted(expected)}; update benchmarks/members_pages.py"
            )

    def drop_indexes(self, table: str) -> None:
        """Drop the table's secondary indexes (kept for `rebuild_indexes`): loading then
        building an index is several times faster than updating it row by row."""
        with self.connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s"
                    " AND indexname::regclass NOT IN"
                    " (SELECT conindid FROM pg_constraint WHERE conindid <> 0)",
                    [table],
                )
            else:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                    " AND tbl_name = %s AND sql IS NOT NULL",
                    [table],
                )
            for name, sql in cursor.fetchall():
                cursor.execute(f"DROP INDEX {self.quote(name)}")
                self.dropped.append(sql)

    def rebuild_indexes(self) -> None:
        with self.connection.cursor() as cursor:
            for sql in self.dropped:
                cursor.execute(sql)
        self.dropped.clear()

    def insert(self, model: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        self.check_columns(model, columns)
        table = model._meta.db_table
        names = ", ".join(self.quote(c) for c in columns)
        written = 0
        if self.postgres:
            with self.connection.cursor() as wrapper:
                raw = wrapper.cursor
                with raw.copy(f"COPY {self.quote(table)} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        written += 1
            return written
        raw_connection = self.connection.connection
        sql = f"INSERT INTO {self.quote(table)} ({names}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                raw_connection.executemany(sql, batch)
                written += len(batch)
                batch = []
        raw_connection.executemany(sql, batch)
        return written + len(batch)


@dataclass
class People:
    """Members and their identities, as arrays indexed by member (0-based)."""

    counts: IntArray
    names: list[str]
    handles: list[str]
    first: FloatArray
    last: FloatArray
    identities: npt.NDArray[np.int64]  # (members, 3): identity ids, 0 where none
    n_identities: IntArray
    identity_source: IntArray  # identity id - 1 -> source index
    identity_external: list[str]
    language: list[str]
    mood: FloatArray
    favourites: IntArray  # (members, 5) keyword indexes
    homes: IntArray  # (members, sources, 3) channel indexes within the source
    team: set[int]
    bots: set[int]
    merged: dict[int, int]
    erased: set[int]


def make_people(rng: np.random.Generator, members: int, interactions: int, end: float) -> People:
    counts = activity_counts(rng, members, interactions)
    first_names = rng.integers(0, len(FIRST_NAMES), members)
    last_names = rng.integers(0, len(LAST_NAMES), members)
    names = [
        f"{FIRST_NAMES[f]} {LAST_NAMES[s]}" for f, s in zip(first_names, last_names, strict=True)
    ]
    handles = [
        f"{FIRST_NAMES[f].lower()}{LAST_NAMES[s].lower()[:4]}{m % 997}"
        for m, (f, s) in enumerate(zip(first_names, last_names, strict=True))
    ]
    start = end - rng.uniform(0, SPAN_DAYS, members) * 86400
    # Busy members stay longer: their active span covers more of the time since they arrived.
    stay = rng.random(members) ** (1.0 / (1.0 + np.log10(1.0 + counts)))
    stop = start + stay * (end - start)

    shares = np.array([s[2] for s in SOURCES])
    primary = rng.choice(len(SOURCES), size=members, p=shares / shares.sum())
    n_identities = np.ones(members, dtype=np.int64)
    draw = rng.random(members)
    n_identities[draw < 0.19] = 2
    n_identities[draw < 0.04] = 3
    sources = np.full((members, 3), -1, dtype=np.int64)
    sources[:, 0] = primary
    for several in np.nonzero(n_identities > 1)[0].tolist():
        others = [s for s in range(len(SOURCES)) if s != primary[several]]
        picked = rng.choice(len(others), size=int(n_identities[several]) - 1, replace=False)
        for n, p in enumerate(picked, start=1):
            sources[several, n] = others[int(p)]
    identities = np.zeros((members, 3), dtype=np.int64)
    identity_source: list[int] = []
    identity_external: list[str] = []
    for m in range(members):
        for n in range(int(n_identities[m])):
            identity_source.append(int(sources[m, n]))
            identity_external.append(f"U{m + 1:07d}{n}")
            identities[m, n] = len(identity_source)

    codes = list(LANGUAGES)
    weights = np.array(list(LANGUAGES.values()))
    language = [codes[i] for i in rng.choice(len(codes), members, p=weights / weights.sum())]
    favourites = _zipf_choice(rng, len(KEYWORDS), (members, 5), a=0.9)
    homes = np.stack(
        [_zipf_choice(rng, s[4], (members, 3)) for s in SOURCES], axis=1
    )  # (members, sources, 3)

    by_activity = np.argsort(-counts, kind="stable")
    scale = max(1, members // 100_000)
    team = {int(m) for m in by_activity[5 : 5 + 30 * scale : 3]}
    bots = {int(m) for m in by_activity[20 : 20 + 10 * scale * 7 : 7]} - team
    idle = [int(m) for m in np.nonzero(counts == 0)[0]]
    merged_away = idle[: 300 * scale]
    targets = rng.choice(by_activity[: members // 2], size=len(merged_away))
    merged = {m: int(t) for m, t in zip(merged_away, targets, strict=True) if int(t) != m}
    erased = {int(m) for m in np.nonzero((counts > 0) & (counts <= 3))[0][: 50 * scale]}
    return People(
        counts=counts,
        names=names,
        handles=handles,
        first=start,
        last=stop,
        identities=identities,
        n_identities=n_identities,
        identity_source=np.array(identity_source, dtype=np.int64),
        identity_external=identity_external,
        language=language,
        mood=rng.normal(0.12, 0.18, members),
        favourites=favourites,
        homes=homes,
        team=team,
        bots=bots,
        merged=merged,
        erased=erased,
    )


@dataclass
class Activity:
    """Every interaction, in time order (row n has id n + 1)."""

    member: IntArray
    identity: IntArray
    source: IntArray
    kind: IntArray
    channel: IntArray  # global channel index, -1 for none
    at_us: IntArray
    conversation: list[int]  # 0 for none
    parent: list[int]  # 0 for none
    gratitude: npt.NDArray[np.bool_]
    conversations: list[tuple[int, int, int, int]]  # (opener row, source, channel, started us)
    thanks: list[tuple[int, int, int]]  # (interaction id, from member, to member), 1-based


def make_activity(rng: np.random.Generator, people: People, channel_base: list[int]) -> Activity:
    members = len(people.counts)
    member = np.repeat(np.arange(members, dtype=np.int64), people.counts)
    total = len(member)
    u = rng.random(total)
    n_ids = people.n_identities[member]
    pick = np.where(
        n_ids == 1, 0, np.where(n_ids == 2, u >= 0.8, (u >= 0.7).astype(int) + (u >= 0.9))
    )
    identity = people.identities[member, pick.astype(np.int64)]
    source = people.identity_source[identity - 1]
    kind = np.zeros(total, dtype=np.int64)
    channel = np.zeros(total, dtype=np.int64)
    draw = rng.random(total)
    home_pick = rng.integers(0, 3, total)
    at_home = rng.random(total) < 0.75
    for s, (_, _, _, kinds, n_channels) in enumerate(SOURCES):
        here = source == s
        codes = np.array([K[k] for k in kinds])
        cumulative = np.cumsum(list(kinds.values())) / sum(kinds.values())
        kind[here] = codes[np.searchsorted(cumulative, draw[here], side="right")]
        anywhere = _zipf_choice(rng, n_channels, int(here.sum()))
        home = people.homes[member[here], s, home_pick[here]]
        channel[here] = channel_base[s] + np.where(at_home[here], home, anywhere)
    channel[np.isin(kind, list(NO_CHANNEL))] = -1
    span = people.last[member] - people.first[member]
    at = people.first[member] + rng.random(total) * span
    order = np.argsort(at, kind="stable")
    member, identity, source, kind, channel = (
        a[order] for a in (member, identity, source, kind, channel)
    )
    # Odd microseconds: Django writes no fraction for a whole second, and SQLite compares text.
    at_us = (at[order] * 1_000_000).astype(np.int64) | 1
    gratitude = (rng.random(total) < 0.07) & np.isin(kind, list(RESPONSES | {K["message"]}))

    conversation = [0] * total
    parent = [0] * total
    conversations: list[tuple[int, int, int, int]] = []
    thanks: list[tuple[int, int, int]] = []
    # Per channel: recent conversations (id, opener row) and recent messages (row).
    recent_conversations: dict[int, deque[tuple[int, int]]] = {}
    recent_messages: dict[int, deque[int]] = {}
    choice = (rng.random(total) ** 2 * 40).astype(np.int64).tolist()
    opens = (rng.random(total) < OPENS_SHARE).tolist()
    member_list = member.tolist()
    kind_list = kind.tolist()
    channel_list = channel.tolist()
    grateful = gratitude.tolist()
    message, share = K["message"], K["share"]
    for row in range(total):
        k = kind_list[row]
        ch = channel_list[row]
        if ch < 0:
            continue
        convs = recent_conversations.get(ch)
        if convs is None:
            convs = recent_conversations[ch] = deque(maxlen=40)
            recent_messages[ch] = deque(maxlen=40)
        msgs = recent_messages[ch]
        if (
            k in OPENERS
            or (k == message and opens[row])
            or ((k in RESPONSES or k == message) and not convs)
        ):
            conversations.append((row, int(source[row]), ch, int(at_us[row])))
            conv_id = len(conversations)
            conversation[row] = conv_id
            convs.append((conv_id, row))
            msgs.append(row)
        elif k in RESPONSES or k == message:
            conv_id, opener = convs[-1 - min(choice[row], len(convs) - 1)]
            conversation[row] = conv_id
            parent[row] = opener + 1
            msgs.append(row)
            to = member_list[opener]
            if grateful[row] and to != member_list[row]:
                thanks.append((row + 1, member_list[row] + 1, to + 1))
        elif k in POINTERS and msgs:
            target = msgs[-1 - min(choice[row], len(msgs) - 1)]
            parent[row] = target + 1
            conversation[row] = conversation[target]
        elif k == share:
            msgs.append(row)
    return Activity(
        member=member,
        identity=identity,
        source=source,
        kind=kind,
        channel=channel,
        at_us=at_us,
        conversation=conversation,
        parent=parent,
        gratitude=gratitude,
        conversations=conversations,
        thanks=thanks,
    )


def _content_hash(pk: int) -> str:
    """The interaction's digest, written on its Enrichment too: an enrichment whose digest
    differs is stale (an edited message) and would be done again."""
    return f"{(pk * 2654435761) % (1 << 64):016x}{(pk * 40503) % (1 << 64):016x}"


def _fillers(rng: np.random.Generator, n: int) -> list[str]:
    lengths = rng.integers(3, 14, n)
    return [
        " ".join(FILLER[int(w)] for w in rng.integers(0, len(FILLER), int(size)))
        for size in lengths
    ]


def build_member_rollups() -> int:
    """The daily and monthly member rollups and first days, as the importer keeps them (the
    member page's weekly counts read them); the number of daily rows."""
    from townsquare.metrics.models import DailyMemberActivity
    from townsquare.metrics.rollups import rebuild_first_seen, rebuild_members

    rebuild_members()
    rebuild_first_seen()
    return DailyMemberActivity.objects.count()


def _timed(dataset: Dataset, name: str, started: float, rows: int) -> None:
    dataset.seconds[name] = round(time.perf_counter() - started, 1)
    dataset.rows[name] = rows
    print(f"  {name}: {rows:,} rows in {dataset.seconds[name]} s", flush=True)


def generate(members: int, interactions: int, seed: int) -> Dataset:
    from django.contrib.auth.models import User
    from django.core.management.color import no_style
    from django.db import connection

    from townsquare.community.engagement import refresh_engagement
    from townsquare.community.models import (
        Channel,
        Conversation,
        Identity,
        Interaction,
        KnowledgeEntry,
        Member,
        MemberTag,
        Note,
        Source,
        Tag,
        Touchpoint,
    )
    from townsquare.community.text_search import index_pending
    from townsquare.listening.models import (
        Enrichment,
        LabelCorrection,
        TermMatch,
        Thanks,
        TrackedTerm,
    )
    from townsquare.listening.pipeline import COLUMNS as ENRICHMENT_COLUMNS
    from townsquare.listening.pipeline import current_versions, version_key

    rng = np.random.default_rng(seed)
    end_day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = end_day.timestamp()
    dataset = Dataset(members, interactions, end_day)
    loader = Loader()
    pg = loader.postgres
    started = time.perf_counter()
    people = make_people(rng, members, interactions, end)
    channel_base = list(np.cumsum([0] + [s[4] for s in SOURCES])[:-1])
    activity = make_activity(rng, people, [int(b) for b in channel_base])
    print(
        f"  generated in {time.perf_counter() - started:.1f} s: heaviest member "
        f"{int(people.counts.max()):,} interactions, median "
        f"{int(np.median(people.counts[people.counts > 0]))}",
        flush=True,
    )

    def stamp(seconds: float) -> str:
        return _times_text(np.array([int(seconds * 1_000_000) | 1]), postgres=pg)[0]

    now_text = stamp(end)
    with connection.cursor() as cursor:
        if pg:
            cursor.execute("SET session_replication_role = replica")  # no FK triggers
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute("SET synchronous_commit = off")
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA cache_size = -500000")
    tables = [Interaction, Enrichment, Conversation, Identity, Thanks, TermMatch]
    for model in tables:
        loader.drop_indexes(model._meta.db_table)
    if not pg:
        connection.connection.execute("BEGIN")

    # Sources and channels.
    t = time.perf_counter()
    platforms = [s[1] for s in SOURCES]
    loader.insert(
        Source,
        ["id", "name", "platform", "url", "created_at"],
        [
            (n + 1, name, plat, f"https://{plat}.example.org", stamp(end - SPAN_DAYS * 86400))
            for n, (name, plat, *_rest) in enumerate(SOURCES)
        ],
    )
    channel_rows = []
    for s, (*_, n_channels) in enumerate(SOURCES):
        for c in range(n_channels):
            pk = int(channel_base[s]) + c + 1
            name = f"{KEYWORDS[(pk * 7) % len(KEYWORDS)]}-{c}" if c else "general"
            channel_rows.append((pk, s + 1, f"C{pk:05d}", name, f"About {name}", "", None, False))
    loader.insert(
        Channel,
        ["id", "source_id", "external_id", "name", "topic", "url", "created_at", "is_archived"],
        channel_rows,
    )

    # Members and identities.
    first_us = np.full(members, np.iinfo(np.int64).max, dtype=np.int64)
    last_us = np.zeros(members, dtype=np.int64)
    np.minimum.at(first_us, activity.member, activity.at_us)
    np.maximum.at(last_us, activity.member, activity.at_us)
    active = people.counts > 0
    first_text = _times_text(np.where(active, first_us, 0), postgres=pg)
    last_text = _times_text(last_us, postgres=pg)
    created_text = _times_text((people.first * 1_000_000).astype(np.int64) | 1, postgres=pg)

    def member_rows() -> Iterator[tuple[Any, ...]]:
        for m in range(members):
            erased = m in people.erased
            merged_into = people.merged.get(m)
            fields = '{"company": "Acme"}' if m % 17 == 0 else "{}"
            yield (
                m + 1,
                "" if erased else people.names[m],
                first_text[m] if active[m] else None,
                last_text[m] if active[m] else None,
                int(people.counts[m]),
                m in people.team,
                m in people.bots,
                m % 211 == 0,
                fields,
                None if merged_into is None else merged_into + 1,
                None if merged_into is None else now_text,
                now_text if erased else None,
                created_text[m],
            )

    loader.insert(
        Member,
        [
            "id",
            "display_name",
            "first_seen_at",
            "last_seen_at",
            "interaction_count",
            "is_team",
            "is_bot",
            "do_not_contact",
            "custom_fields",
            "merged_into_id",
            "merged_at",
            "erased_at",
            "created_at",
        ],
        member_rows(),
    )
    _timed(dataset, "members", t, members)

    t = time.perf_counter()

    def identity_rows() -> Iterator[tuple[Any, ...]]:
        for m in range(members):
            if m in people.merged:
                continue  # their identities live on the member they were merged into
            owner = m + 1
            for n in range(int(people.n_identities[m])):
                pk = int(people.identities[m, n])
                s = int(people.identity_source[pk - 1])
                plat = platforms[s]
                handle = people.handles[m] if n == 0 else f"{people.handles[m]}_{plat[:2]}"
                email = (
                    f"{handle}@example.org" if plat in ("mbox", "github", "stackexchange") else ""
                )
                ext = people.identity_external[pk - 1]
                yield (
                    pk,
                    s + 1,
                    owner,
                    ext,
                    "" if m in people.erased else handle,
                    "" if m in people.erased else people.names[m],
                    "" if m in people.erased else email,
                    f"https://{plat}.example.org/u/{ext}",
                    m in people.bots,
                    False,
                    f'{{"id": "{ext}", "name": "{handle}"}}',
                    created_text[m],
                )

    n_identities = loader.insert(
        Identity,
        [
            "id",
            "source_id",
            "member_id",
            "external_id",
            "handle",
            "display_name",
            "email",
            "profile_url",
            "is_bot",
            "is_placeholder",
            "raw",
            "created_at",
        ],
        identity_rows(),
    )
    _timed(dataset, "identities", t, n_identities)

    # Texts, keywords and labels: drawn per interaction, vectorized.
    total = len(activity.member)
    fillers = _fillers(rng, 20_000)
    filler_a = rng.integers(0, len(fillers), total).tolist()
    filler_b = rng.integers(0, len(fillers), total).tolist()
    n_keywords = rng.choice(5, total, p=[0.10, 0.35, 0.30, 0.17, 0.08]).tolist()
    from_favourites = rng.random((total, 4)) < 0.65
    favourite_pick = rng.integers(0, 5, (total, 4))
    keyword_idx = np.where(
        from_favourites,
        people.favourites[activity.member[:, None], favourite_pick],
        _zipf_choice(rng, len(KEYWORDS), (total, 4), a=0.9),
    ).tolist()
    other_language = (rng.random(total) < 0.1).tolist()
    compound = np.clip(rng.normal(people.mood[activity.member], 0.35), -1, 1).round(4).tolist()
    question = (rng.random(total) < 0.15).tolist()
    emotion_idx = _zipf_choice(rng, len(EMOTIONS), total).tolist()
    toxicity = (rng.exponential(0.03, total)).round(4).tolist()
    spam = (rng.exponential(0.02, total)).round(4).tolist()
    reaction_idx = rng.integers(0, len(REACTIONS), total).tolist()
    corrected_rows = set(rng.choice(total, size=min(300, total), replace=False).tolist())
    at_text = _times_text(activity.at_us, postgres=pg)
    tracked = KEYWORDS[20:26]
    tracked_ids = {word: n + 1 for n, word in enumerate(tracked)}
    versions = current_versions()
    versions_json = json.dumps(versions, sort_keys=True)
    key = version_key(versions)
    member_language = people.language
    grateful = activity.gratitude.tolist()
    member_list = activity.member.tolist()
    identity_list = activity.identity.tolist()
    source_list = activity.source.tolist()
    kind_list = activity.kind.tolist()
    channel_list = activity.channel.tolist()
    at_us_list = activity.at_us.tolist()
    term_matches: list[tuple[int, int, int]] = []
    corrections: list[tuple[int, str]] = []
    texts: list[str] = [""] * total

    def interaction_rows() -> Iterator[tuple[Any, ...]]:
        for row in range(total):
            k = kind_list[row]
            kind = KINDS[k]
            pk = row + 1
            words: list[str] = []
            if k in TEXT_KINDS:
                words = list(
                    dict.fromkeys(KEYWORDS[i] for i in keyword_idx[row][: n_keywords[row]])
                )
                text = f"{fillers[filler_a[row]]} {' '.join(words)} {fillers[filler_b[row]]}"
                if grateful[row]:
                    text = "Thanks a lot! " + text
                if question[row]:
                    text += "?"
                for word in words:
                    if word in tracked_ids:
                        term_matches.append((len(term_matches) + 1, tracked_ids[word], pk))
            elif k == K["reaction"]:
                text = REACTIONS[reaction_idx[row]]
            else:
                text = ""
            texts[row] = text
            parent = activity.parent[row]
            conv = activity.conversation[row]
            ch = channel_list[row]
            s = source_list[row]
            ext = people.identity_external[identity_list[row] - 1]
            ts = at_us_list[row] / 1_000_000
            yield (
                pk,
                s + 1,
                f"m{pk}",
                kind,
                identity_list[row],
                member_list[row] + 1,
                ch + 1 if ch >= 0 else None,
                conv or None,
                parent or None,
                f"m{parent}" if parent else "",
                text,
                f"https://{platforms[s]}.example.org/m/{pk}" if platforms[s] != "slack" else "",
                at_text[row],
                None,
                f'{{"type": "{kind}", "user": "{ext}", "text": "{text}", "ts": "{ts:.6f}"}}',
                _content_hash(pk),
                now_text,
            )

    def enrichment_rows() -> Iterator[tuple[Any, ...]]:
        for row in range(total):
            k = kind_list[row]
            pk = row + 1
            member = member_list[row] + 1
            if k not in TEXT_KINDS:
                continue  # nothing to analyse: never enriched (listening/pipeline.py)
            language = "en" if other_language[row] else member_language[member_list[row]]
            words = list(dict.fromkeys(KEYWORDS[i] for i in keyword_idx[row][: n_keywords[row]]))
            corrected = "[]"
            if language == "en":
                sentiment: float | None = compound[row]
                assert sentiment is not None
                label = (
                    "positive"
                    if sentiment >= 0.3
                    else "negative"
                    if sentiment <= -0.05
                    else "neutral"
                )
            else:
                sentiment, label = None, "unsupported"
            if row in corrected_rows:
                corrections.append((pk, label))
                label, corrected = "negative", '["sentiment_label"]'
            emotion = EMOTIONS[emotion_idx[row]]
            yield (
                pk,
                member,
                True,
                language,
                0.93,
                sentiment,
                label,
                question[row],
                0.8 if question[row] else 0.1,
                grateful[row],
                emotion,
                f'{{"{emotion}": 0.71}}',
                toxicity[row],
                toxicity[row] > 0.25,
                spam[row],
                spam[row] > 0.3,
                json.dumps(words),
                versions_json,
                key,
                _content_hash(pk),
                corrected,
                now_text,
            )

    t = time.perf_counter()
    n = loader.insert(
        Interaction,
        [
            "id",
            "source_id",
            "external_id",
            "kind",
            "identity_id",
            "member_id",
            "channel_id",
            "conversation_id",
            "parent_id",
            "parent_external_id",
            "text",
            "url",
            "created_at",
            "edited_at",
            "raw",
            "content_hash",
            "imported_at",
        ],
        interaction_rows(),
    )
    _timed(dataset, "interactions", t, n)

    t = time.perf_counter()

    def conversation_rows() -> Iterator[tuple[Any, ...]]:
        for pk, (opener, s, ch, _) in enumerate(activity.conversations, start=1):
            title = texts[opener][:80]
            yield (pk, s + 1, ch + 1, f"c{pk}", title, "", at_text[opener])

    n = loader.insert(
        Conversation,
        ["id", "source_id", "channel_id", "external_id", "title", "url", "started_at"],
        conversation_rows(),
    )
    _timed(dataset, "conversations", t, n)

    t = time.perf_counter()
    n = loader.insert(
        Enrichment,
        list(ENRICHMENT_COLUMNS),  # the order enrichment_rows() yields
        enrichment_rows(),
    )
    _timed(dataset, "enrichments", t, n)

    t = time.perf_counter()
    n = loader.insert(
        Thanks,
        ["id", "interaction_id", "from_member_id", "to_member_id", "created_at"],
        (
            (pk, iid, frm, to, at_text[iid - 1])
            for pk, (iid, frm, to) in enumerate(activity.thanks, start=1)
        ),
    )
    _timed(dataset, "thanks", t, n)
    if not pg:
        connection.connection.execute("COMMIT")

    # Staff, tracked terms, corrections, tags and the team's memory: small, through the ORM.
    t = time.perf_counter()
    User.objects.create_superuser("bench", "bench@example.org", None)
    staff = [
        User.objects.create_user(name, f"{name}@example.org", None, is_staff=True)
        for name in ("mia", "noah")
    ]
    TrackedTerm.objects.bulk_create(
        TrackedTerm(id=pk, term=word, created_by=staff[0]) for word, pk in tracked_ids.items()
    )
    loader.insert(TermMatch, ["id", "term_id", "interaction_id"], term_matches)
    LabelCorrection.objects.bulk_create(
        LabelCorrection(
            interaction_id=pk,
            field="sentiment_label",
            value="negative",
            previous=previous,
            corrected_by=staff[n % 2],
        )
        for n, (pk, previous) in enumerate(corrections)
    )
    tags = Tag.objects.bulk_create(
        Tag(name=name)
        for name in _words(
            "speaker beta-tester ambassador sponsor maintainer contributor mentor newcomer "
            "customer partner vip translator moderator organizer writer designer researcher "
            "student educator startup enterprise nonprofit press investor alumni"
        )
    )
    by_activity = np.argsort(-people.counts, kind="stable").tolist()
    regulars = [m for m in by_activity[: members // 2] if m not in people.merged]
    tagged = rng.choice(regulars, size=min(len(regulars), members // 12), replace=False).tolist()
    member_tags = []
    for m in [*regulars[:20], *tagged]:
        for tag_n in rng.choice(len(tags), size=int(rng.integers(1, 4)), replace=False).tolist():
            member_tags.append(MemberTag(member_id=m + 1, tag=tags[tag_n], added_by=staff[m % 2]))
    MemberTag.objects.bulk_create(member_tags, ignore_conflicts=True, batch_size=5000)
    remembered = [*regulars[:50] * 4, *rng.choice(regulars, size=members // 25).tolist()]
    at = datetime.fromtimestamp(end, UTC) - timedelta(days=3)
    Note.objects.bulk_create(
        (
            Note(member_id=m + 1, author=staff[n % 2], text=f"Met at the meetup; **follow up** {n}")
            for n, m in enumerate(remembered)
        ),
        batch_size=5000,
    )
    Touchpoint.objects.bulk_create(
        (
            Touchpoint(
                member_id=m + 1,
                staff=staff[n % 2],
                happened_at=at - timedelta(days=n % 300),
                channel="call",
                reason="Check-in",
                outcome="Happy",
            )
            for n, m in enumerate(remembered[::2])
        ),
        batch_size=5000,
    )
    first_message = {}
    for row, m in enumerate(member_list):
        if kind_list[row] in TEXT_KINDS and m not in first_message:
            first_message[m] = row + 1
    KnowledgeEntry.objects.bulk_create(
        KnowledgeEntry(
            member_id=m + 1,
            interaction_id=first_message.get(m),
            title=f"Tip {n}",
            url=f"https://example.org/tips/{n}",
            created_by=staff[n % 2],
        )
        for n, m in enumerate(remembered[::8])
    )
    _timed(dataset, "staff, terms, tags, memory", t, len(term_matches) + len(member_tags))

    t = time.perf_counter()
    loader.rebuild_indexes()
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(
            no_style(),
            [
                Source,
                Channel,
                Member,
                Identity,
                Conversation,
                Interaction,
                Thanks,
                TermMatch,
                TrackedTerm,
            ],
        ):
            cursor.execute(sql)
        if pg:
            cursor.execute("SET session_replication_role = DEFAULT")
    _timed(dataset, "indexes rebuilt", t, 0)

    # The text search index (SQLite), as the importer builds it after each batch.
    t = time.perf_counter()
    _timed(dataset, "text search index", t, index_pending())

    t = time.perf_counter()
    levels = refresh_engagement(now=datetime.fromtimestamp(end, UTC))
    _timed(dataset, "engagement levels", t, sum(levels.values()))
    t = time.perf_counter()
    _timed(dataset, "member rollups", t, build_member_rollups())
    if pg:
        t = time.perf_counter()
        with connection.cursor() as cursor:
            # What autovacuum does after a bulk load: statistics, and the visibility map that
            # index-only scans need.
            cursor.execute("VACUUM ANALYZE")
        _timed(dataset, "vacuum analyze", t, 0)
    else:
        # The load's write-ahead log back into the database file. No ANALYZE: the
        # application never runs it, so the pages are measured with the plans it gets.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # The measurements open a connection of their own, with the application's settings.
    connection.close()
    return dataset


# Databases ------------------------------------------------------------------------------------


def _pg_admin(url: str) -> tuple[str, str]:
    """The database name and a URL of the same server's `postgres` database."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in FORBIDDEN_DATABASES:
        raise SystemExit(f"refusing to use the database {name!r}: give the benchmark its own")
    return name, urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))


def _pg_create(url: str, *, fresh: bool) -> None:
    import psycopg
    from psycopg import sql

    name, admin = _pg_admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        if not exists or fresh:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _setup(database_url: str | None, data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["TOWNSQUARE_DATA_DIR"] = str(data_dir)
    if database_url:
        _pg_create(database_url, fresh=False)
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    # The test client's host name.
    os.environ["TOWNSQUARE_ALLOWED_HOSTS"] = "testserver"
    os.environ["TOWNSQUARE_DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townsquare.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    # One connection (one PostgreSQL backend) for the whole run, as a busy web worker keeps
    # its own: its CPU time is read from /proc per request.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = None


def _present(members: int, interactions: int) -> bool:
    from django.contrib.auth.models import User
    from django.db import DatabaseError, connection

    from townsquare.community.models import Interaction, Member
    from townsquare.people.models import EngagementScore

    try:
        return (
            Member.objects.count() == members
            and Interaction.objects.count() == interactions
            and EngagementScore.objects.exists()
            and User.objects.filter(username="bench").exists()
        )
    except DatabaseError:
        connection.close()
        return False


def _reset(database_url: str | None) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    connection.close()
    if database_url:
        _pg_create(database_url, fresh=True)
    else:
        path = Path(settings.DATABASES["default"]["NAME"])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    call_command("migrate", verbosity=0, interactive=False)


# Measuring ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    group: str
    label: str
    path: str
    params: dict[str, str]
    htmx_target: str = ""

    @property
    def url(self) -> str:
        return self.path + (f"?{urlencode(self.params)}" if self.params else "")


@dataclass
class Measure:
    page: Page
    median_ms: float
    p95_ms: float
    min_ms: float
    # CPU time of the request: this process, plus the PostgreSQL backend's (same machine);
    # steadier than wall time on a shared machine. Waiting: time runnable but not running.
    cpu_ms: float
    waiting_ms: float
    queries: int
    slowest_query_ms: float
    slowest_query: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.page.group,
            "page": self.page.label,
            "url": self.page.url,
            "htmx": bool(self.page.htmx_target),
            "median_ms": self.median_ms,
            "p95_ms": self.p95_ms,
            "min_ms": self.min_ms,
            "cpu_ms": self.cpu_ms,
            "waiting_ms": self.waiting_ms,
            "queries": self.queries,
            "slowest_query_ms": self.slowest_query_ms,
            "slowest_query": self.slowest_query,
            "bytes": self.size,
        }


def pages() -> list[Page]:
    from django.db.models import Count
    from django.urls import reverse

    from townsquare.community.models import Channel, Interaction, Member

    people = Member.objects.filter(merged_into__isnull=True, erased_at__isnull=True)
    heaviest = people.order_by("-interaction_count", "id").first()
    assert heaviest is not None
    active = people.filter(interaction_count__gt=0)
    n_active = active.count()
    typical = active.order_by("interaction_count", "id")[n_active // 2]
    single = active.filter(interaction_count=1).order_by("id").first() or typical
    busiest_channel = (
        Interaction.objects.filter(member=heaviest, kind="reply")
        .values("channel_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    channel = Channel.objects.get(pk=busiest_channel["channel_id"]) if busiest_channel else None
    last = heaviest.last_seen_at or datetime.now(UTC)
    pages_of_heaviest = max(1, math.ceil(heaviest.interaction_count / 50))
    members_url = reverse("members")
    heavy_url = reverse("member", args=[heaviest.pk])
    timeline = "member-timeline"
    listing = [
        Page("list", "default (last seen)", members_url, {}),
        Page("list", "search name “maria”", members_url, {"q": "maria"}),
        Page("list", "search name, rare (“okafor”)", members_url, {"q": "okafor"}),
        Page("list", "messages containing “webhook”", members_url, {"text": "webhook"}),
        Page("list", "language fr", members_url, {"language": "fr"}),
        Page(
            "list",
            "level active + platform discord",
            members_url,
            {"level": "active", "platform": "discord"},
        ),
        Page("list", "tag + active 90 days", members_url, {"tag": "1", "activity": "active90"}),
        Page(
            "list",
            "mostly negative, 90 days",
            members_url,
            {"sentiment": "negative90"},
        ),
        Page("list", "sort by interactions", members_url, {"sort": "interactions"}),
        Page("list", "sort by name, page 1000", members_url, {"sort": "name", "page": "1000"}),
        Page("list", "page 2 (htmx)", members_url, {"page": "2"}, "member-results"),
    ]
    profile = [
        Page("profile", f"heaviest ({heaviest.interaction_count:,})", heavy_url, {}),
        Page(
            "profile",
            f"typical ({typical.interaction_count})",
            reverse("member", args=[typical.pk]),
            {},
        ),
        Page("profile", "one message", reverse("member", args=[single.pk]), {}),
        Page("profile", "heaviest, timeline page 2 (htmx)", heavy_url, {"page": "2"}, timeline),
        Page(
            "profile",
            f"heaviest, timeline page {pages_of_heaviest // 2} (htmx)",
            heavy_url,
            {"page": str(pages_of_heaviest // 2)},
            timeline,
        ),
        Page(
            "profile",
            "heaviest, timeline kind + channel (htmx)",
            heavy_url,
            {"kind": "reply", **({"channel": str(channel.pk)} if channel else {})},
            timeline,
        ),
        Page(
            "profile",
            "heaviest, timeline last 30 days (htmx)",
            heavy_url,
            {
                "since": (last - timedelta(days=30)).date().isoformat(),
                "until": last.date().isoformat(),
            },
            timeline,
        ),
    ]
    return listing + profile


def _schedstat(pid: int | str) -> tuple[int, int]:
    """Nanoseconds a process has run, and waited to run (Linux); zeros elsewhere."""
    try:
        ran, waited, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
    except (OSError, ValueError):
        return 0, 0
    return int(ran), int(waited)


def _backend_pid() -> int | None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def measure(page: Page, repeat: int, warm_up: int) -> Measure:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(User.objects.get(username="bench"))
    headers = {"HX-Request": "true", "HX-Target": page.htmx_target} if page.htmx_target else {}

    def get() -> int:
        response = client.get(page.path, page.params, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{page.url}: HTTP {response.status_code}")
        return len(response.content)

    for _ in range(warm_up):
        get()
    pids: list[int | str] = ["self"]
    backend = _backend_pid()
    if backend is not None:
        pids.append(backend)
    times = []
    cpu = []
    waiting = []
    size = 0
    for _ in range(repeat):
        before = [_schedstat(pid) for pid in pids]
        started = time.perf_counter()
        size = get()
        times.append((time.perf_counter() - started) * 1000)
        after = [_schedstat(pid) for pid in pids]
        cpu.append(sum(a[0] - b[0] for a, b in zip(after, before, strict=True)) / 1e6)
        waiting.append(sum(a[1] - b[1] for a, b in zip(after, before, strict=True)) / 1e6)
    with CaptureQueriesContext(connection) as captured:
        get()
    slowest = max(captured.captured_queries, key=lambda q: float(q["time"]), default=None)
    times.sort()
    return Measure(
        page=page,
        median_ms=round(statistics.median(times), 1),
        p95_ms=round(times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)], 1),
        min_ms=round(times[0], 1),
        cpu_ms=round(statistics.median(cpu), 1),
        waiting_ms=round(statistics.median(waiting), 1),
        queries=len(captured.captured_queries),
        slowest_query_ms=round(1000 * float(slowest["time"]), 1) if slowest else 0.0,
        slowest_query=str(slowest["sql"])[:300] if slowest else "",
        size=size,
    )


def print_table(engine: str, results: list[Measure]) -> None:
    print(f"\n{engine}: server time per page, ms (target < {TARGET_MS:.0f} ms median)")
    print(
        f"{'page':<44}{'median':>8}{'p95':>8}{'min':>8}{'cpu':>8}{'waited':>8}"
        f"{'queries':>9}{'slowest q':>11}"
    )
    group = ""
    for m in results:
        if m.page.group != group:
            group = m.page.group
            print(f"-- {'members list' if group == 'list' else 'member profile'}")
        flag = "" if m.median_ms < TARGET_MS else "  over"
        print(
            f"{m.page.label:<44}{m.median_ms:>8.1f}{m.p95_ms:>8.1f}{m.min_ms:>8.1f}"
            f"{m.cpu_ms:>8.1f}{m.waiting_ms:>8.1f}{m.queries:>9}{m.slowest_query_ms:>11.1f}{flag}"
        )


def _engine(database_url: str | None) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0].split()[0]
            # The text filter's figure depends on it (docs/benchmarks.md, README).
            cursor.execute("SHOW shared_buffers")
            return f"PostgreSQL {version} (shared_buffers {cursor.fetchone()[0]})"
        cursor.execute("SELECT sqlite_version()")
        return f"SQLite {cursor.fetchone()[0]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--members", type=int, default=DEFAULT_MEMBERS)
    parser.add_argument("--interactions", type=int, default=DEFAULT_INTERACTIONS)
    parser.add_argument(
        "--database-url",
        default=None,
        help="a postgres:// URL of the benchmark's own database (created if absent); "
        "SQLite in --data-dir when not given",
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--reuse", action="store_true", help="keep data of the same sizes")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--warm-up", type=int, default=WARM_UP)
    parser.add_argument(
        "--only", default="", help="only the pages whose label contains one of these (comma)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    _setup(args.database_url, args.data_dir)
    engine = _engine(args.database_url)
    print(f"{engine}: {args.members:,} members, {args.interactions:,} interactions")
    dataset: dict[str, Any] = {"reused": True}
    if args.reuse and _present(args.members, args.interactions):
        # Migrations added since the data was built (an index, say) apply to it as they would
        # on an installation's database.
        from django.core.management import call_command

        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        from django.db import connection

        from townsquare.metrics.models import DailyMemberActivity

        if not DailyMemberActivity.objects.exists():
            # Data built before the benchmark kept the member rollups.
            print(f"member rollups: {build_member_rollups():,} daily rows", flush=True)

        if connection.vendor == "postgresql":
            # What autovacuum soon does after a migration rewrote rows: statistics, and the
            # visibility map that index-only scans need.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        dataset["migrate_seconds"] = round(time.perf_counter() - started, 1)
    else:
        print("generating the dataset...", flush=True)
        started = time.perf_counter()
        _reset(args.database_url)
        built = generate(args.members, args.interactions, args.seed)
        dataset = {
            "reused": False,
            "seconds": round(time.perf_counter() - started, 1),
            "rows": built.rows,
            "step_seconds": built.seconds,
        }
        print(f"dataset ready in {dataset['seconds']} s", flush=True)

    wanted = [word.strip().lower() for word in args.only.split(",")]
    results = [
        measure(page, args.repeat, args.warm_up)
        for page in pages()
        if any(word in page.label.lower() for word in wanted)
    ]
    print_table(engine, results)
    args.out.mkdir(parents=True, exist_ok=True)
    name = "postgresql" if args.database_url else "sqlite"
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "engine": engine,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
        },
        "members": args.members,
        "interactions": args.interactions,
        "seed": args.seed,
        "dataset": dataset,
        "target_ms": TARGET_MS,
        "pages": [m.as_dict() for m in results],
    }
    (args.out / f"members_pages-{name}.json").write_text(
        json.dumps(report, indent=2) + "\n", encoding="utf-8"
    )
    missed = [m.page.label for m in results if m.median_ms >= TARGET_MS]
    if missed:
        print(f"MISSED the target: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
