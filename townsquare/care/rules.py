"""The rules that find who needs a human touch. Each rule reads recent activity with a few
set-based queries and yields Candidates: a member, a reason in plain words, and a strength
0..1 within the rule. The queue (queue.py) files them and ranks items (docs/care.md)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import log10, sqrt
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, Exists, F, Max, Min, OuterRef, Q, QuerySet
from django.db.models.functions import Length

from townsquare.care.hours import waited_hours
from townsquare.care.models import CareSettings, ChannelPolicy, Rule
from townsquare.community.models import (
    DEACTIVATED,
    Channel,
    Identity,
    Interaction,
    InteractionKind,
    Member,
)
from townsquare.front.labels import language_name
from townsquare.lib.sql import LOOKUP_CHUNK
from townsquare.listening.models import SentimentLabel

# Kinds of interaction in which a member says something (reactions, joins and votes do not).
SPEAKING = (
    InteractionKind.POST,
    InteractionKind.REPLY,
    InteractionKind.COMMENT,
    InteractionKind.MESSAGE,
    InteractionKind.ANSWER,
)

# How far back each rule looks. Older events are history, not a reason to reach out today.
RECENT = timedelta(days=7)
BAD_DAY_WINDOW = timedelta(days=3)
UNANSWERED_WINDOW = timedelta(days=30)
BASELINE_WINDOW = timedelta(days=90)
# A message in another language counts only when the identification is this sure and the
# message this long: short greetings are too easily misread.
LANGUAGE_CONFIDENCE = 0.8
LANGUAGE_MIN_CHARS = 25
# A bad day: a negative message at or below this compound score, or negative with anger or
# sadness.
BAD_DAY_COMPOUND = -0.4
HELPER_MIN_THANKS = 2
HELPER_MIN_ANSWERS = 3
MAX_ANNIVERSARY_YEARS = 30

# A message as a reason cites it: its id, author, time and where it was written.
MESSAGE_AND_PLACE = ("id", "member_id", "created_at", "channel_id", "conversation_id")


@dataclass(frozen=True)
class Candidate:
    member_id: int
    rule: Rule
    key: str
    detail: str
    strength: float
    occurred_at: datetime
    interaction_id: int | None = None
    conversation_id: int | None = None
    channel_id: int | None = None


@dataclass
class Context:
    now: datetime
    settings: CareSettings
    policies: dict[int, ChannelPolicy]
    channel_names: dict[int, str]

    @classmethod
    def load(cls, now: datetime) -> Context:
        return cls(
            now=now,
            settings=CareSettings.load(),
            policies={p.channel_id: p for p in ChannelPolicy.objects.all()},
            channel_names=dict(Channel.objects.values_list("id", "name")),
        )

    def sla_hours(self, channel_id: int | None) -> int:
        policy = self.policies.get(channel_id) if channel_id else None
        if policy is not None and policy.sla_hours:
            return policy.sla_hours
        return self.settings.default_sla_hours

    def main_language(self, channel_id: int | None) -> str:
        policy = self.policies.get(channel_id) if channel_id else None
        if policy is not None and policy.main_language:
            return policy.main_language
        languages: list[str] = settings.TOWNSQUARE_LANGUAGES
        return languages[0] if languages else "en"

    def where(self, channel_id: int | None) -> str:
        name = self.channel_names.get(channel_id) if channel_id else None
        return f" in {name}" if name else ""


def people() -> QuerySet[Member]:
    """Members the queue may suggest: not staff, not bots, not merged away, not erased."""
    return Member.objects.filter(
        is_team=False, is_bot=False, merged_into__isnull=True, erased_at__isnull=True
    )


def reachable() -> Q:
    """Members with an account their sources have not deactivated (Slack's deleted user): one
    whose every account is gone left on purpose, and nobody can reach them there to ask why."""
    accounts = Identity.objects.filter(member=OuterRef("pk"))
    # Spelled out for the rows without the key, which `~DEACTIVATED` alone leaves out (NULL).
    active = Q(raw__deleted__isnull=True) | ~DEACTIVATED
    return ~Exists(accounts.filter(DEACTIVATED)) | Exists(accounts.filter(active))


def among_people(field: str) -> Q:
    """Rows whose member (through `field`) is one of `people()`, as a join: `field__in=
    people()` made SQLite probe every member's rows instead of reading the window by time."""
    return Q(
        **{
            f"{field}__is_team": False,
            f"{field}__is_bot": False,
            f"{field}__merged_into__isnull": True,
            f"{field}__erased_at__isnull": True,
        }
    )


def _hours(hours: float) -> str:
    if hours < 48:
        return f"{hours:.0f} hours"
    return f"{hours / 24:.0f} days"


def unanswered(ctx: Context) -> Iterator[Candidate]:
    """A question nobody but its author answered, older than its channel's answer time."""
    from townsquare.inbox.models import ConversationState

    waiting = ConversationState.objects.filter(
        among_people("opened_by"),
        awaiting_reply=True,
        is_question=True,
        opened_at__gte=ctx.now - UNANSWERED_WINDOW,
        opened_at__lte=ctx.now - timedelta(hours=1),
    ).values_list("conversation_id", "opened_by_id", "opened_at", "channel_id", "first_message_id")
    for conversation_id, member_id, opened_at, channel_id, message_id in waiting:
        sla = ctx.sla_hours(channel_id)
        waited = waited_hours(opened_at, ctx.now, ctx.settings)
        if waited < sla:
            continue
        yield Candidate(
            member_id=member_id,
            rule=Rule.UNANSWERED,
            key=f"unanswered:{conversation_id}",
            detail=(
                f"Asked a question{ctx.where(channel_id)} {_hours(waited)} ago and nobody has "
                f"answered yet (the answer time here is {sla} hours)."
            ),
            # Half strength at the answer time, full at twice it.
            strength=min(1.0, 0.5 + 0.5 * (waited - sla) / sla),
            occurred_at=opened_at,
            interaction_id=message_id,
            conversation_id=conversation_id,
            channel_id=channel_id,
        )


def bad_day(ctx: Context) -> Iterator[Candidate]:
    """A clearly negative or angry message, stronger when it is unusual for its author."""
    # The label is checked here, not in SQL: with it there, PostgreSQL read every negative
    # message of all time through their partial index (0.25 s at 2 M) to keep three days'.
    rows = [
        row[:-1]
        for row in Interaction.objects.filter(
            among_people("member"),
            created_at__gte=ctx.now - BAD_DAY_WINDOW,
            created_at__lte=ctx.now,
            kind__in=SPEAKING,
        )
        .filter(
            Q(enrichment__sentiment__lte=BAD_DAY_COMPOUND)
            | Q(enrichment__emotion__in=["anger", "sadness"])
        )
        .exclude(enrichment__is_spam=True)
        .values_list(
            *MESSAGE_AND_PLACE,
            "enrichment__sentiment",
            "enrichment__emotion",
            "enrichment__sentiment_label",
        )
        .order_by("created_at")
        if row[-1] == SentimentLabel.NEGATIVE
    ]
    if not rows:
        return
    members = {row[1] for row in rows}
    # Each author's usual mood: mean and spread of their compound over the last 90 days.
    baselines = {
        row["member_id"]: row
        for row in Interaction.objects.filter(
            member_id__in=members,
            created_at__gte=ctx.now - BASELINE_WINDOW,
            enrichment__sentiment__isnull=False,
        )
        .values("member_id")
        .annotate(
            n=Count("id"),
            mean=Avg("enrichment__sentiment"),
            square=Avg(F("enrichment__sentiment") * F("enrichment__sentiment")),
        )
    }
    seen: set[int] = set()
    for message_id, member_id, at, channel_id, conversation_id, compound, emotion in rows:
        if member_id in seen:  # one bad-day reason per member: their first such message
            continue
        seen.add(member_id)
        base = baselines.get(member_id)
        strength = 0.6
        unusual = ""
        if base and base["n"] >= 5 and compound is not None:
            spread = sqrt(max(base["square"] - base["mean"] ** 2, 0.0)) or 0.1
            z = (base["mean"] - compound) / spread
            strength = max(0.3, min(1.0, z / 3))
            if z >= 2:
                unusual = " That is unusual for them: they are mostly " + (
                    "positive." if base["mean"] > 0.05 else "even-tempered."
                )
        feeling = {"anger": "an angry", "sadness": "a sad"}.get(emotion or "", "a negative")
        yield Candidate(
            member_id=member_id,
            rule=Rule.BAD_DAY,
            key=f"bad_day:{message_id}",
            detail=f"Wrote {feeling} message{ctx.where(channel_id)}.{unusual}",
            strength=strength,
            occurred_at=at,
            interaction_id=message_id,
            conversation_id=conversation_id,
            channel_id=channel_id,
        )


def language_barrier(ctx: Context) -> Iterator[Candidate]:
    """A message in a language other than its channel's main one, or a member writing in a
    second language whose conversation got no reply."""
    rows = list(
        Interaction.objects.filter(
            among_people("member"),
            created_at__gte=ctx.now - RECENT,
            created_at__lte=ctx.now,
            kind__in=SPEAKING,
            enrichment__language_confidence__gte=LANGUAGE_CONFIDENCE,
            enrichment__language__isnull=False,
        )
        .exclude(enrichment__language="")
        .exclude(enrichment__is_spam=True)
        .annotate(length=Length("text"))
        .filter(length__gte=LANGUAGE_MIN_CHARS)
        # The times are read for the messages filed only: converting a week of them cost
        # more than the query. Whether the conversation awaits a reply comes in the same
        # row, from the rollup's primary key.
        .values_list(
            "id",
            "member_id",
            "channel_id",
            "conversation_id",
            "enrichment__language",
            "conversation__state__awaiting_reply",
        )
        .order_by("created_at")
    )
    if not rows:
        return
    # A member's usual language matters only for a message in the channel's own language
    # still awaiting a reply: read it for those authors alone (all authors: 0.65 s at 2 M).
    authors = {row[1] for row in rows if row[4] == ctx.main_language(row[2]) and row[5]}
    usual: dict[int, Counter[str]] = defaultdict(Counter)
    for member_id, language, n in (
        Interaction.objects.filter(
            member_id__in=authors,
            created_at__gte=ctx.now - BASELINE_WINDOW,
            enrichment__language_confidence__gte=LANGUAGE_CONFIDENCE,
        )
        .values_list("member_id", "enrichment__language")
        .annotate(n=Count("id"))
    ):
        if language:
            usual[member_id][language] = n
    seen: set[int] = set()
    found: list[dict[str, Any]] = []
    for message_id, member_id, channel_id, conversation_id, language, waiting in rows:
        if member_id in seen:
            continue
        main = ctx.main_language(channel_id)
        own = usual[member_id].most_common(1)[0][0] if usual[member_id] else language
        no_reply = bool(waiting)
        key = f"language:{message_id}"
        said, usual_here = language_name(language), language_name(main)
        if language != main:
            detail = f"Wrote in {said}{ctx.where(channel_id)}, where most write in {usual_here}."
            strength = 0.8 if no_reply else 0.6
        elif own != language and no_reply:
            # Cleared when the conversation gets its reply (queue.py).
            key = f"second-language:{message_id}"
            detail = (
                f"Usually writes in {language_name(own)}; wrote in {said}"
                f"{ctx.where(channel_id)} and got no reply."
            )
            strength = 0.7
        else:
            continue
        if no_reply and language != main:
            detail += " Nobody has replied yet."
        seen.add(member_id)
        found.append(
            {
                "member_id": member_id,
                "key": key,
                "detail": detail,
                "strength": strength,
                "interaction_id": message_id,
                "conversation_id": conversation_id,
                "channel_id": channel_id,
            }
        )
    times: dict[int, datetime] = {}
    for start in range(0, len(found), LOOKUP_CHUNK):
        chunk = [f["interaction_id"] for f in found[start : start + LOOKUP_CHUNK]]
        times.update(Interaction.objects.filter(id__in=chunk).values_list("id", "created_at"))
    for f in found:
        yield Candidate(rule=Rule.LANGUAGE, occurred_at=times[f["interaction_id"]], **f)


def newcomer(ctx: Context) -> Iterator[Candidate]:
    """A member whose first message came in the last week: welcome them personally. Not an
    account whose first message is spam, or one a moderator hid: nobody welcomes a spammer."""
    from townsquare.moderation.visibility import message_hidden

    members = people().filter(first_seen_at__gte=ctx.now - RECENT, first_seen_at__lte=ctx.now)
    first_messages = (
        Interaction.objects.filter(member__in=members, kind__in=SPEAKING)
        .values("member_id")
        .annotate(first=Min("id"))
        .values_list("first", flat=True)
    )
    rows = (
        Interaction.objects.filter(id__in=list(first_messages))
        .exclude(enrichment__is_spam=True)
        .exclude(message_hidden("pk"))
        .values_list(*MESSAGE_AND_PLACE, "enrichment__is_question")
    )
    for message_id, member_id, at, channel_id, conversation_id, is_question in rows:
        what = "first question" if is_question else "first message"
        yield Candidate(
            member_id=member_id,
            rule=Rule.NEWCOMER,
            key=f"newcomer:{member_id}",
            detail=f"New here: wrote their {what}{ctx.where(channel_id)}. Welcome them personally.",
            strength=0.9 if is_question else 0.7,
            occurred_at=at,
            interaction_id=message_id,
            conversation_id=conversation_id,
            channel_id=channel_id,
        )


def drifting(ctx: Context) -> Iterator[Candidate]:
    """A regular gone quiet (METRICS.md, drifting away): at least 5 interactions in all, the
    last one between 6 and 3 months ago."""
    quiet_since = ctx.now - timedelta(days=91)
    rows = people().filter(
        reachable(),
        interaction_count__gte=5,
        last_seen_at__gte=ctx.now - timedelta(days=182),
        last_seen_at__lt=quiet_since,
    )
    for member_id, last_seen, count in rows.values_list("id", "last_seen_at", "interaction_count"):
        if last_seen is None:  # excluded by the filter; for the type checker
            continue
        yield Candidate(
            member_id=member_id,
            rule=Rule.DRIFTING,
            key=f"drifting:{member_id}:{last_seen:%Y-%m-%d}",
            detail=(
                f"Has been quiet since {last_seen:%d %b %Y} after {count} interactions: a "
                "regular drifting away."
            ),
            # A member with 1,000 interactions matters more than one with 5.
            strength=max(0.3, min(1.0, log10(count) / 3)),
            occurred_at=last_seen,
        )


def helper(ctx: Context) -> Iterator[Candidate]:
    """Someone thanked by others, or who answered several questions lately."""
    from townsquare.inbox.models import ConversationState
    from townsquare.listening.models import Thanks

    since = ctx.now - RECENT
    week = f"{ctx.now:%G-W%V}"
    # Counted for everyone by time (the indexes on when), then narrowed to the people the
    # queue may suggest: "among people()" in SQL made SQLite probe each of them.
    thanked = dict(
        Thanks.objects.filter(created_at__gte=since, to_member__isnull=False)
        .values_list("to_member_id")
        .annotate(n=Count("id"))
    )
    # Counted here, not by GROUP BY, which made SQLite walk the first responder index of
    # every conversation ever instead of this week's by time (2 s at 645,000 conversations).
    answered = Counter(
        responder
        for responder in ConversationState.objects.filter(
            is_question=True, first_response_at__gte=since
        ).values_list("first_responder_id", flat=True)
        if responder is not None
    )
    enough = {m for m, n in thanked.items() if n >= HELPER_MIN_THANKS} | {
        m for m, n in answered.items() if n >= HELPER_MIN_ANSWERS
    }
    eligible = set(people().filter(id__in=enough).values_list("id", flat=True))
    thanked = {m: n for m, n in thanked.items() if m in eligible}
    answered = Counter({m: n for m, n in answered.items() if m in eligible})
    last: dict[int, datetime] = dict(
        Thanks.objects.filter(created_at__gte=since, to_member_id__in=list(thanked))
        .values_list("to_member_id")
        .annotate(at=Max("created_at"))
    )
    for member_id in set(thanked) | set(answered):
        n_thanks, n_answers = thanked.get(member_id, 0), answered.get(member_id, 0)
        if n_thanks < HELPER_MIN_THANKS and n_answers < HELPER_MIN_ANSWERS:
            continue
        parts = []
        if n_thanks >= HELPER_MIN_THANKS:
            parts.append(f"were thanked {n_thanks} times")
        if n_answers >= HELPER_MIN_ANSWERS:
            parts.append(f"answered {n_answers} questions first")
        yield Candidate(
            member_id=member_id,
            rule=Rule.HELPER,
            key=f"helper:{member_id}:{week}",
            detail="This week they " + " and ".join(parts) + ". Thank them.",
            strength=min(1.0, (n_thanks + n_answers) / 8),
            occurred_at=last.get(member_id, ctx.now),
        )


# Milestone sources: the celebrate work adds its own here. Each yields Candidates whose rule
# is Rule.MILESTONE.
MilestoneSource = Callable[[Context], Iterator[Candidate]]


def _anniversary(first_seen: datetime, year: int) -> datetime:
    try:
        return first_seen.replace(year=year)
    except ValueError:  # 29 February
        return first_seen.replace(year=year, day=28)


def anniversaries(ctx: Context) -> Iterator[Candidate]:
    """A member still active whose first interaction was a whole number of years ago this week."""
    # The same week in every earlier year, as time ranges on the indexed first-seen column
    # (month and day lookups would run a function on every member's row).
    same_week = Q()
    for years_ago in range(1, MAX_ANNIVERSARY_YEARS + 1):
        end = _anniversary(ctx.now, ctx.now.year - years_ago)
        same_week |= Q(first_seen_at__gt=end - RECENT, first_seen_at__lte=end)
    active = people().filter(
        same_week,
        last_seen_at__gte=ctx.now - BASELINE_WINDOW,
        first_seen_at__lte=ctx.now - timedelta(days=360),
    )
    for member_id, first_seen in active.values_list("id", "first_seen_at"):
        if first_seen is None:  # excluded by the filter; for the type checker
            continue
        day = _anniversary(first_seen, ctx.now.year)
        if day > ctx.now:  # the week spans New Year: last year's date
            day = _anniversary(first_seen, ctx.now.year - 1)
        years = day.year - first_seen.year
        if years < 1 or not (ctx.now - RECENT <= day <= ctx.now):
            continue
        yield Candidate(
            member_id=member_id,
            rule=Rule.MILESTONE,
            key=f"milestone:anniversary:{member_id}:{day.year}",
            detail=f"{years} year{'s' if years > 1 else ''} in the community this week.",
            strength=min(1.0, 0.4 + 0.2 * years),
            occurred_at=day,
        )


MILESTONE_SOURCES: list[MilestoneSource] = [anniversaries]


def milestone(ctx: Context) -> Iterator[Candidate]:
    for source in MILESTONE_SOURCES:
        yield from source(ctx)


def moderation(ctx: Context) -> Iterator[Candidate]:
    """A message waiting in the moderation queue: the item goes to moderators."""
    from townsquare.moderation.models import ModerationItem

    # Bots' and staff's flagged messages stay in the moderation queue alone.
    pending = ModerationItem.objects.filter(
        among_people("interaction__member"), status="pending"
    ).values_list(
        "interaction_id",
        "interaction__member_id",
        "interaction__created_at",
        "interaction__channel_id",
        "interaction__conversation_id",
        "reasons",
    )
    for message_id, member_id, at, channel_id, conversation_id, reasons in pending:
        kinds = sorted({str(r.get("kind", "")).replace("_", " ") for r in reasons or []})
        yield Candidate(
            member_id=member_id,
            rule=Rule.MODERATION,
            key=f"moderation:{message_id}",
            detail=(
                f"A message{ctx.where(channel_id)} is waiting for a moderator"
                + (f" ({', '.join(kinds)})." if kinds else ".")
            ),
            strength=1.0,
            occurred_at=at,
            interaction_id=message_id,
            conversation_id=conversation_id,
            channel_id=channel_id,
        )


RULES: dict[Rule, Callable[[Context], Iterator[Candidate]]] = {
    Rule.UNANSWERED: unanswered,
    Rule.BAD_DAY: bad_day,
    Rule.LANGUAGE: language_barrier,
    Rule.NEWCOMER: newcomer,
    Rule.DRIFTING: drifting,
    Rule.HELPER: helper,
    Rule.MILESTONE: milestone,
    Rule.MODERATION: moderation,
}
