"""Read-only queries behind the pages: each gives one page what it shows, in a few SQL queries."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce
from django.db.models.query import ModelIterable

from townsquare.community.models import (
    Channel,
    Conversation,
    Identity,
    Interaction,
    InteractionKind,
    Member,
    Source,
)
from townsquare.connectors.models import ImportRun
from townsquare.front.labels import build_labels
from townsquare.listening.models import (
    Enrichment,
    LabelCorrection,
    SentimentLabel,
    TermMatch,
    Thanks,
    TrackedTerm,
)
from townsquare.listening.pipeline import TEXT_KINDS
from townsquare.moderation.visibility import title_hidden

# What the member list can be sorted by: (label, ordering). Dates put members never seen last.
MEMBER_SORTS: dict[str, tuple[str, list[OrderBy | str]]] = {
    "last_seen": ("Last seen", [F("last_seen_at").desc(nulls_last=True), "id"]),
    "first_seen": ("First seen (newest first)", [F("first_seen_at").desc(nulls_last=True), "id"]),
    "interactions": ("Interactions", ["-interaction_count", "display_name", "id"]),
    "name": ("Name", ["display_name", "id"]),
}
DEFAULT_MEMBER_SORT = "last_seen"

# A conversation page shows at most this many messages: enough for any human reader, and a
# bound on the page's size when an import turns a whole channel into one conversation.
CONVERSATION_MESSAGE_LIMIT = 1000
# Deeper replies are drawn at this indentation: past it, indenting stops helping to read.
MAX_REPLY_DEPTH = 5


@dataclass(frozen=True)
class Overview:
    members: int
    interactions: int
    conversations: int
    sources: int


def overview_counts() -> Overview:
    """The four headline counts, in one query."""
    tables = [m._meta.db_table for m in (Member, Interaction, Conversation, Source)]
    # Only our own table names are interpolated: there is no user input in this SQL.
    selects = ", ".join(
        f"(SELECT COUNT(*) FROM {connection.ops.quote_name(t)})"  # noqa: S608
        for t in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {selects}")
        row = cursor.fetchone()
    return Overview(*(int(n) for n in row))


def sources_with_latest_run() -> QuerySet[Source]:
    """Every source, each with `latest_runs`: a list holding its most recent import run."""
    latest = ImportRun.objects.order_by("-started_at", "-id")[:1]
    return Source.objects.order_by("name").prefetch_related(
        Prefetch("runs", queryset=latest, to_attr="latest_runs")
    )


def _message_count() -> Coalesce:
    """Messages (not reactions) in each conversation, counted only for the rows a page shows."""
    counts = (
        Interaction.objects.filter(conversation=OuterRef("pk"))
        .exclude(kind=InteractionKind.REACTION)
        .order_by()
        .values("conversation")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(counts), 0)


# The conversation list's label filter: name -> (what the option says, the Enrichment rows).
LABEL_FILTERS: dict[str, tuple[str, Q]] = {
    "negative": ("Negative messages", Q(sentiment_label=SentimentLabel.NEGATIVE)),
    "question": ("Questions", Q(is_question=True)),
    "toxic": ("Toxic messages", Q(is_toxic=True)),
    "spam": ("Spam", Q(is_spam=True)),
    "gratitude": ("Thanks", Q(is_gratitude=True)),
}


def conversations(
    *, source: Source | None = None, channel: Channel | None = None, label: str = ""
) -> QuerySet[Conversation]:
    """Conversations, newest first, with their source, channel, `message_count` and
    `title_hidden`; with a label, only those with at least one message so labelled (in the same
    query)."""
    qs = Conversation.objects.select_related("source", "channel")
    if source is not None:
        qs = qs.filter(source=source)
    if channel is not None:
        qs = qs.filter(channel=channel)
    if label in LABEL_FILTERS:
        labelled = Enrichment.objects.filter(
            LABEL_FILTERS[label][1], interaction__conversation=OuterRef("pk")
        )
        qs = qs.filter(Exists(labelled))
    return qs.annotate(message_count=_message_count(), title_hidden=title_hidden()).order_by(
        "-started_at", "-id"
    )


def recent_conversations(limit: int = 10) -> list[Conversation]:
    items = list(conversations()[:limit])
    name_mentions(items, "title")
    return items


def identities_with_source() -> Prefetch[Any]:
    return Prefetch(
        "identities",
        queryset=Identity.objects.select_related("source").order_by("source__name", "id"),
    )


def members(*, q: str = "", source: Source | None = None, sort: str = "") -> QuerySet[Member]:
    """Members matching a search (display name, or an identity's handle, name or email)."""
    qs = Member.objects.all()
    q = q.strip()
    if q:
        # A substring can use no index: each table is scanned once for the whole query (the
        # members by name, the identities by handle, name or email), then the matching
        # members are read by id, instead of a check of every member's identities per member.
        named = Member.objects.filter(display_name__icontains=q).order_by().values("id")
        identified = (
            Identity.objects.filter(
                Q(handle__icontains=q) | Q(display_name__icontains=q) | Q(email__icontains=q)
            )
            .order_by()
            .values("member_id")
        )
        qs = qs.filter(pk__in=named.union(identified, all=True))
    if source is not None:
        qs = qs.filter(Exists(Identity.objects.filter(member=OuterRef("pk"), source=source)))
    _, ordering = MEMBER_SORTS.get(sort, MEMBER_SORTS[DEFAULT_MEMBER_SORT])
    return qs.order_by(*ordering).prefetch_related(identities_with_source())


def member_with_identities() -> QuerySet[Member]:
    return Member.objects.prefetch_related(identities_with_source())


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    count: int


@dataclass(frozen=True)
class _ActivityCount:
    kind: str
    channel_id: int | None
    channel_name: str
    source_id: int | None
    source_name: str
    count: int


def _activity_counts(member: Member) -> list[_ActivityCount]:
    """The member's interactions counted per kind and channel, in one pass over the
    member-kind-channel index alone; the member page reads them twice (kinds, channels), so
    they are kept on the member object for the request."""
    cached: list[_ActivityCount] | None = getattr(member, "_activity_counts", None)
    if cached is not None:
        return cached
    # Counted first, then named: joining the names to each of a busy member's tens of
    # thousands of rows would cost more than counting them.
    sql = (
        "SELECT x.kind, x.channel_id, c.name, c.source_id, s.name, x.n FROM ("
        " SELECT kind, channel_id, COUNT(*) AS n FROM community_interaction"
        " WHERE member_id = %s GROUP BY kind, channel_id) x"
        " LEFT JOIN community_channel c ON c.id = x.channel_id"
        " LEFT JOIN community_source s ON s.id = c.source_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [member.pk])
        rows = [
            _ActivityCount(str(kind), channel, name or "", source, source_name or "", int(n))
            for kind, channel, name, source, source_name, n in cursor.fetchall()
        ]
    setattr(member, "_activity_counts", rows)  # noqa: B010 (not a field: mypy would object)
    return rows


def member_kind_counts(member: Member) -> list[KindCount]:
    """How many interactions of each kind a member has, most frequent first."""
    counts: dict[str, int] = defaultdict(int)
    for row in _activity_counts(member):
        counts[row.kind] += row.count
    labels = dict(InteractionKind.choices)
    return [
        KindCount(kind, labels.get(kind, kind), n)
        for kind, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


@dataclass(frozen=True)
class ChannelActivity:
    channel_id: int
    name: str
    source_id: int
    source_name: str
    count: int


def member_channels(member: Member, limit: int = 20) -> list[ChannelActivity]:
    """The channels a member is most active in."""
    channels: dict[int, ChannelActivity] = {}
    for row in _activity_counts(member):
        if row.channel_id is None or row.source_id is None:
            continue
        seen = channels.get(row.channel_id)
        channels[row.channel_id] = ChannelActivity(
            row.channel_id,
            row.channel_name,
            row.source_id,
            row.source_name,
            row.count + (seen.count if seen else 0),
        )
    ranked = sorted(channels.values(), key=lambda c: (-c.count, c.name))
    return ranked[:limit]


class TimelineQuerySet(QuerySet[Interaction]):
    """A timeline whose pages are found by id first: the page's ids from the member-and-time
    index alone (OFFSET skips index entries), then those rows with their source, channel,
    conversation and enrichment. Skipping whole joined rows to reach a busy member's later
    pages read all of those joins for every row skipped."""

    # The number of rows when it is known without counting them (`member_timeline`); a
    # filtered or otherwise changed copy is a new queryset without it, and counts.
    known_count: int | None = None

    def count(self) -> int:
        if self.known_count is not None:
            return self.known_count
        return super().count()

    def __getitem__(self, k: Any) -> Any:
        # Model rows only: the ids' own query (values) slices as usual.
        if (
            isinstance(k, slice)
            and self._result_cache is None
            and self._iterable_class is ModelIterable
        ):
            ids = QuerySet.__getitem__(self.values("pk"), k)
            return self.filter(pk__in=ids)
        return super().__getitem__(k)


def member_timeline(
    member: Member,
    *,
    source_id: int | None = None,
    channel_id: int | None = None,
    kind: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[Interaction]:
    """The member's interactions, newest first, each with its moderation (whether a moderator
    hid it) and `conversation_title_hidden`; filtered by source, channel, kind and UTC days
    from `since` to `until`, both included."""
    qs: QuerySet[Interaction] = TimelineQuerySet(Interaction).filter(member=member)
    if source_id:
        qs = qs.filter(source_id=source_id)
    if channel_id:
        qs = qs.filter(channel_id=channel_id)
    if kind:
        qs = qs.filter(kind=kind)
    if since is not None:
        qs = qs.filter(created_at__gte=datetime.combine(since, time(), tzinfo=UTC))
    if until is not None:
        end = datetime.combine(until + timedelta(days=1), time(), tzinfo=UTC)
        qs = qs.filter(created_at__lt=end)
    timeline = (
        qs.select_related("source", "channel", "conversation", "enrichment", "moderation")
        .annotate(conversation_title_hidden=title_hidden("conversation_id"))
        .order_by("-created_at", "-id")
    )
    if not (source_id or since or until):
        # Whole, or by kind and channel: the per kind and channel counts the page shows
        # anyway say how many rows there are (a COUNT read a busy member's rows once more).
        assert isinstance(timeline, TimelineQuerySet)  # noqa: S101 - built as one above
        timeline.known_count = sum(
            row.count
            for row in _activity_counts(member)
            if (not kind or row.kind == kind) and (not channel_id or row.channel_id == channel_id)
        )
    return timeline


def labelled_interactions() -> QuerySet[Interaction]:
    """Interactions with what showing one message and its labels needs, and whether a
    moderator hid it."""
    return Interaction.objects.select_related(
        "source", "channel", "conversation", "member", "enrichment", "moderation"
    )


def enrichment_of(item: Interaction) -> Enrichment | None:
    """The interaction's Enrichment as `select_related` left it (None when never enriched);
    never a query."""
    if not Interaction.enrichment.is_cached(item):
        raise ValueError("load interactions with select_related('enrichment') to show labels")
    try:
        return item.enrichment
    except Enrichment.DoesNotExist:
        return None


def attach_labels(items: Iterable[Interaction]) -> None:
    """Give every interaction its `labels` (front.labels.MessageLabels). The interactions come
    with select_related("enrichment"); then thanks, tracked-term matches and corrections take
    one query each for the whole page, the first and last only when a message needs them."""
    rows = list(items)
    if not rows:
        return
    ids = [item.pk for item in rows]
    enrichments = {item.pk: enrichment_of(item) for item in rows}
    grateful = [pk for pk, e in enrichments.items() if e is not None and e.is_gratitude]
    corrected = [pk for pk, e in enrichments.items() if e is not None and e.corrected]

    thanks: dict[int, list[Thanks]] = defaultdict(list)
    if grateful:
        for t in (
            Thanks.objects.filter(interaction_id__in=grateful)
            .select_related("to_member")
            .order_by("interaction_id", "to_member__display_name", "id")
        ):
            thanks[t.interaction_id].append(t)
    matches: dict[int, list[TermMatch]] = defaultdict(list)
    for m in (
        TermMatch.objects.filter(interaction_id__in=ids)
        .select_related("term")
        .order_by("interaction_id", "term__term")
    ):
        matches[m.interaction_id].append(m)
    latest: dict[int, dict[str, LabelCorrection]] = defaultdict(dict)
    if corrected:
        for c in (
            LabelCorrection.objects.filter(interaction_id__in=corrected)
            .select_related("corrected_by")
            .order_by("created_at", "id")
        ):
            latest[c.interaction_id][c.field] = c  # the latest one wins
    for item in rows:
        item.labels = build_labels(  # type: ignore[attr-defined]
            enrichments[item.pk],
            thanks[item.pk],
            matches[item.pk],
            latest[item.pk],
            has_words=item.kind in TEXT_KINDS,
        )


def tracked_terms() -> QuerySet[TrackedTerm]:
    """Every tracked term with its `match_count` and who created it, active ones first."""
    return (
        TrackedTerm.objects.select_related("created_by")
        .annotate(match_count=Count("matches"))
        .order_by("-is_active", "term", "kind", "id")
    )


def term_matches(term: TrackedTerm) -> QuerySet[Interaction]:
    """The interactions mentioning a tracked term, newest first, ready for `attach_labels`,
    with whether their conversation's title is hidden (`conversation_title_hidden`)."""
    # Through the match table's (term, interaction) index: a term's matches are few.
    mentioned = TermMatch.objects.filter(term=term).values("interaction_id")
    return (
        labelled_interactions()
        .filter(pk__in=mentioned)
        .annotate(conversation_title_hidden=title_hidden("conversation_id"))
        .order_by("-created_at", "-id")
    )


# Slack's mention of a member without their name, as its exports write it: <@U061A5N1G>.
BARE_MENTION = re.compile(r"<@([A-Za-z0-9._-]+)>")


def name_mentions(items: Iterable[Interaction | Conversation], attribute: str = "text") -> None:
    """Give bare mentions in a text field the mentioned member's name (on the objects, for
    display; nothing is saved), with one query for the whole page."""
    rows = [(item, getattr(item, attribute)) for item in items]
    rows = [(item, text) for item, text in rows if "<@" in text]
    wanted: dict[int, set[str]] = defaultdict(set)
    for item, text in rows:
        wanted[item.source_id].update(BARE_MENTION.findall(text))
    if not any(wanted.values()):
        return
    condition = Q()
    for source_id, external_ids in wanted.items():
        condition |= Q(source_id=source_id, external_id__in=external_ids)
    names = {
        (source_id, external_id): display_name or handle
        for source_id, external_id, display_name, handle in Identity.objects.filter(
            condition
        ).values_list("source_id", "external_id", "display_name", "handle")
    }
    for item, text in rows:

        def named(match: re.Match[str], source_id: int = item.source_id) -> str:
            name = names.get((source_id, match.group(1)))
            # These would break the mention's markup: a name holding one stays an id.
            if not name or any(c in name for c in "|<>"):
                return match.group(0)
            return f"<@{match.group(1)}|{name}>"

        setattr(item, attribute, BARE_MENTION.sub(named, text))


@dataclass
class ReactionGroup:
    """One emoji under a message: how many reacted with it, and who."""

    name: str
    people: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.people)


@dataclass
class ThreadEntry:
    interaction: Interaction
    depth: int
    reactions: list[ReactionGroup]
    # A reply whose parent is not on this page (or not imported) says so instead of hiding it.
    parent_missing: bool = False


@dataclass
class Thread:
    entries: list[ThreadEntry]
    total: int
    truncated: bool


def _author_name(interaction: Interaction) -> str:
    if interaction.member is not None:
        return interaction.member.display_name
    return "unknown"


def conversation_thread(
    conversation: Conversation, limit: int = CONVERSATION_MESSAGE_LIMIT
) -> Thread:
    """A conversation's messages in time order, replies under their parent, reactions grouped
    under the message they react to."""
    rows = list(
        Interaction.objects.filter(conversation=conversation)
        .exclude(kind=InteractionKind.REACTION)
        .select_related("member", "identity", "enrichment", "moderation")
        .order_by("created_at", "id")[: limit + 1]
    )
    truncated = len(rows) > limit
    rows = rows[:limit]
    name_mentions(rows)
    attach_labels(rows)
    total = (
        Interaction.objects.filter(conversation=conversation)
        .exclude(kind=InteractionKind.REACTION)
        .count()
        if truncated
        else len(rows)
    )

    reactions: dict[int, dict[str, ReactionGroup]] = defaultdict(dict)
    reaction_rows = (
        Interaction.objects.filter(kind=InteractionKind.REACTION, parent__conversation=conversation)
        .select_related("member")
        .order_by("created_at", "id")
    )
    for reaction in reaction_rows:
        if reaction.parent_id is None:
            continue
        groups = reactions[reaction.parent_id]
        group = groups.setdefault(reaction.text, ReactionGroup(reaction.text))
        group.people.append(_author_name(reaction))

    present = {r.pk for r in rows}
    children: dict[int, list[Interaction]] = defaultdict(list)
    roots: list[tuple[Interaction, bool]] = []
    for row in rows:
        if row.parent_id is not None and row.parent_id in present and row.parent_id != row.pk:
            children[row.parent_id].append(row)
        else:
            is_reply = bool(row.parent_id or row.parent_external_id)
            # The first message of a thread is often its own "parent" in platforms' data.
            roots.append((row, is_reply and row.parent_id not in present))

    entries: list[ThreadEntry] = []
    shown: set[int] = set()

    def walk(start: list[tuple[Interaction, bool]]) -> None:
        # Depth-first, in time order at every level; a stack keeps deep threads off the
        # Python stack.
        stack: list[tuple[Interaction, int, bool]] = [(r, 0, m) for r, m in reversed(start)]
        while stack:
            row, depth, missing = stack.pop()
            if row.pk in shown:
                continue
            shown.add(row.pk)
            groups = reactions.get(row.pk, {})
            entries.append(
                ThreadEntry(row, min(depth, MAX_REPLY_DEPTH), list(groups.values()), missing)
            )
            kids = children.get(row.pk, [])
            stack.extend((child, depth + 1, False) for child in reversed(kids))

    walk(roots)
    # Replies that point at each other in a loop have no root; show them rather than lose them.
    for row in rows:
        if row.pk not in shown:
            walk([(row, True)])
    return Thread(entries=entries, total=total, truncated=truncated)


def import_runs() -> QuerySet[ImportRun]:
    return ImportRun.objects.select_related("source").order_by("-started_at", "-id")


@dataclass(frozen=True)
class KindOutcomes:
    kind: str
    created: int
    updated: int
    unchanged: int


OUTCOMES = ("created", "updated", "unchanged")


def run_count_table(run: ImportRun) -> list[KindOutcomes]:
    """A run's counts as one row per kind of record and one column per outcome."""
    counts: dict[str, dict[str, int]] = run.counts if isinstance(run.counts, dict) else {}
    kinds = sorted({kind for outcome in OUTCOMES for kind in counts.get(outcome, {})})
    return [
        KindOutcomes(kind, *(int(counts.get(outcome, {}).get(kind, 0)) for outcome in OUTCOMES))
        for kind in kinds
    ]
