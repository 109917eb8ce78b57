"""A synthetic but realistic community, written as real Slack, Stack Exchange and mbox exports."""

from __future__ import annotations

import json
import math
import re
import shutil
import unicodedata
import uuid
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.charset import QP, Charset
from email.header import Header
from email.utils import format_datetime, formataddr
from itertools import accumulate
from mailbox import mbox
from pathlib import Path
from random import Random
from typing import Any
from xml.sax.saxutils import escape

from townsquare.demo import texts
from townsquare.demo.texts import Culture, Topic

SLACK = "slack"
QA = "stackexchange"
MAIL = "mbox"
SHARES = {SLACK: 0.60, QA: 0.25, MAIL: 0.15}

# Not a member of the community: a throwaway account that only posts spam (demo only).
SPAMMER = "spammer"
STAFF, BOT, EXPERT, REGULAR, DRIFTING, NEWCOMER, OCCASIONAL = (
    "staff",
    "bot",
    "expert",
    "regular",
    "drifting",
    "newcomer",
    "occasional",
)
# Share of the (non-staff, non-bot) members per persona.
PERSONA_SHARES = ((EXPERT, 0.03), (REGULAR, 0.15), (DRIFTING, 0.08), (NEWCOMER, 0.10))
# How much each persona chats, asks and answers, relative to the others.
WEIGHTS = {
    STAFF: (5.0, 0.2, 7.0),
    EXPERT: (3.0, 0.5, 10.0),
    REGULAR: (3.0, 1.5, 1.5),
    DRIFTING: (2.5, 1.5, 1.0),
    NEWCOMER: (1.0, 2.0, 0.05),
    OCCASIONAL: (0.25, 0.35, 0.1),
}
CHAT, ASK, ANSWER = 0, 1, 2

DAYS = 365
WEEK = 7
SLACK_CHANNELS = (
    ("general", "Announcements and everything Plotline"),
    ("help", "Ask anything: no question is too small"),
    ("introductions", "Say hi and tell us what you build"),
    ("show-and-tell", "Share your charts, dashboards, talks and posts"),
    ("random", "Off-topic, coffee and cats"),
    ("events", "Office hours, community calls and meetups"),
    ("releases", "New versions, as they ship"),
    ("contributors", "Working on Plotline itself"),
)
SE_DATE = "%Y-%m-%dT%H:%M:%S"
# What was generated, with which parameters: `townsquare demo` regenerates the same community.
MANIFEST = "demo.json"
LICENSE = "CC BY-SA 4.0"


@dataclass(frozen=True)
class DemoExports:
    """What `generate_demo` wrote: the three exports and how much of each."""

    slack_dir: Path
    stackexchange_dir: Path
    mbox_file: Path
    members: int
    # Per source, what the files hold (messages, posts, votes...).
    counts: dict[str, dict[str, int]]
    # Per source, the interactions its importer makes of them.
    interactions: dict[str, int]


@dataclass
class Person:
    index: int
    persona: str
    culture: Culture
    style: str  # "fluent", "second" (simple English) or "native" (often their own language)
    display_name: str
    first_name: str
    handle: str
    email: str
    tz_hours: float
    city: str
    joined: datetime
    start: datetime  # no activity before
    stop: datetime  # no activity after
    sources: list[str]
    interests: list[int]
    weights: tuple[float, float, float]
    slack_id: str = ""
    qa_id: int = 0
    role: str = ""

    def active(self, when: datetime) -> bool:
        return self.start <= when <= self.stop


@dataclass
class SlackMessage:
    channel: str
    ts: str
    data: dict[str, Any]
    reply_ts: list[str] = field(default_factory=list)


@dataclass
class Post:
    key: int
    kind: int  # 1 question, 2 answer
    created: datetime
    owner: Person
    body: str
    title: str = ""
    tags: str = ""
    parent: Post | None = None
    accepted: Post | None = None
    accepted_at: datetime | None = None
    upvotes: list[datetime] = field(default_factory=list)
    downvotes: list[datetime] = field(default_factory=list)
    edited: datetime | None = None
    answers: int = 0
    comments: int = 0
    last_activity: datetime | None = None
    views: int = 0
    post_id: int = 0


@dataclass
class Comment:
    post: Post
    created: datetime
    owner: Person
    text: str


@dataclass
class Mail:
    created: datetime
    author: Person
    subject: str
    body: str
    message_id: str
    parent: Mail | None = None


class _Slots(dict[str, str]):
    """Template slots: the ones given, and a random pick from the vocabulary for the rest."""

    def __init__(self, rng: Random, given: dict[str, str]) -> None:
        super().__init__(given)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        pools: dict[str, Sequence[str]] = {
            "chart": texts.CHARTS,
            "dataset": texts.DATASETS,
            "usecase": texts.USECASES,
            "role": texts.ROLES,
            "conference": texts.CONFERENCES,
            "tip": texts.TIPS,
            "slug": texts.SLUGS,
        }
        value = self.rng.choice(pools[key]) if key in pools else ""
        self[key] = value
        return value


class _Community:
    """The people, the calendar and the text of one generated community."""

    def __init__(self, rng: Random, members: int, end: datetime) -> None:
        self.rng = rng
        self.end = end
        self.start = end - timedelta(days=DAYS)
        self.day_weights = self._day_weights()
        self.day_cum = list(accumulate(self.day_weights))
        self.people = self._people(members)
        self.staff = [p for p in self.people if p.persona == STAFF]
        self.bots = [p for p in self.people if p.persona == BOT]
        self.pools: dict[tuple[str, int, int], tuple[list[Person], list[float]]] = {}
        self.topic_experts: dict[int, list[Person]] = {}
        for person in self.people:
            if person.persona in (EXPERT, STAFF):
                for topic in person.interests:
                    self.topic_experts.setdefault(topic, []).append(person)

    # The calendar --------------------------------------------------------------------------

    def _day_weights(self) -> list[float]:
        weights = []
        releases = {day: 3.5 for day, _, _ in texts.RELEASES}
        releases.update({day + 1: 1.8 for day, _, _ in texts.RELEASES})
        for day in range(DAYS):
            date = self.start + timedelta(days=day)
            weekday = 1.0 if date.weekday() < 5 else 0.3
            growth = 0.55 + 0.9 * day / DAYS
            noise = math.exp(self.rng.gauss(0, 0.18))
            weights.append(weekday * growth * noise * releases.get(day, 1.0))
        return weights

    def random_day(self) -> int:
        return bisect_right(self.day_cum, self.rng.random() * self.day_cum[-1])

    def local_time(self, day: int, person: Person) -> datetime:
        """A moment of the day when this person is likely awake and at work, in UTC."""
        date = self.start + timedelta(days=day)
        if date.weekday() < 5:
            hour = self.rng.choices(range(24), weights=_WEEKDAY_HOURS)[0]
        else:
            hour = self.rng.choices(range(24), weights=_WEEKEND_HOURS)[0]
        local = date + timedelta(hours=hour, seconds=self.rng.randrange(3600))
        return local - timedelta(hours=person.tz_hours)

    def version(self, when: datetime) -> str:
        current = texts.FIRST_VERSION
        for day, version, _ in texts.RELEASES:
            if self.start + timedelta(days=day, hours=15) <= when:
                current = version
        return current

    # The people ----------------------------------------------------------------------------

    def _people(self, count: int) -> list[Person]:
        rng = self.rng
        people: list[Person] = []
        used_handles: set[str] = set()
        for name, handle, title in texts.STAFF[: max(3, min(len(texts.STAFF), count // 300))]:
            person = self._person(len(people), STAFF, texts.CULTURES[0], used_handles)
            person.display_name, person.first_name = name, name.split()[0]
            person.handle, person.email = handle, f"{handle}@{texts.DOMAIN}"
            person.sources = [SLACK, QA, MAIL]
            person.joined = person.start = self.start - timedelta(days=900)
            person.interests = rng.sample(range(len(texts.TOPICS)), 6)
            person.role = title
            people.append(person)
        for name, handle in (("Plotline Bot", "plotline-bot"), ("CI", "ci-bot")):
            person = self._person(len(people), BOT, texts.CULTURES[0], used_handles)
            person.display_name, person.first_name, person.handle = name, name, handle
            person.email, person.sources = "", [SLACK]
            person.joined = person.start = self.start - timedelta(days=700)
            people.append(person)
        cultures = texts.CULTURES
        culture_cum = list(accumulate(c.weight for c in cultures))
        regular_count = max(count - len(people), 0)
        personas: list[str] = []
        for persona, share in PERSONA_SHARES:
            personas += [persona] * max(2, round(regular_count * share))
        personas += [OCCASIONAL] * max(0, regular_count - len(personas))
        personas = personas[:regular_count]
        rng.shuffle(personas)
        for persona in personas:
            culture = cultures[bisect_right(culture_cum, rng.random() * culture_cum[-1])]
            people.append(self._person(len(people), persona, culture, used_handles))
        self._assign_ids(people)
        return people

    def _person(self, index: int, persona: str, culture: Culture, used_handles: set[str]) -> Person:
        rng = self.rng
        given, given_latin = rng.choice(culture.given)
        family, family_latin = rng.choice(culture.family)
        if given in culture.feminine_given:
            # Russian family names agree with a woman's given name: Смирнов, Смирнова.
            family, family_latin = family + "\u0430", family_latin + "a"
        if culture.family_first:
            # Many write their name in Latin letters on an international workspace.
            if rng.random() < 0.35:
                display = f"{given_latin.title()} {family_latin.title()}"
            else:
                display = f"{family}{given}" if culture.key == "zh" else f"{family} {given}"
        else:
            display = f"{given} {family}"
        handle = base = _ascii(f"{given_latin}.{family_latin}".lower())
        suffix = 1
        while handle in used_handles:
            suffix += 1
            handle = f"{base}{suffix}"
        used_handles.add(handle)
        email_user = handle if rng.random() < 0.7 else handle.replace(".", "")
        email = f"{email_user}@{rng.choice(texts.EMAIL_DOMAINS)}"

        style = "fluent"
        if culture.writes_second_language:
            draw = rng.random()
            if culture.language != "en" and draw < 0.35:
                style = "native"
            elif draw < 0.7:
                style = "second"

        # Who joined when: newcomers in the last month, drifting members left 3 to 7 months
        # ago, and the community grew through the year.
        end, start = self.end, self.start
        if persona == NEWCOMER:
            joined = end - timedelta(days=rng.uniform(1, 29))
        elif persona in (EXPERT, REGULAR):
            joined = start - timedelta(days=rng.uniform(30, 900))
        elif persona == DRIFTING:
            joined = start - timedelta(days=rng.uniform(-40, 600))
        else:
            # Growth: more members joined recently than a year ago.
            joined = (
                start - timedelta(days=rng.uniform(0, 700))
                if rng.random() < 0.45
                else start + timedelta(days=(DAYS - 31) * math.sqrt(rng.random()))
            )
        if joined > start and joined.weekday() >= 5 and rng.random() < 0.6:
            # People mostly find the project at work.
            joined += timedelta(days=7 - joined.weekday())
            joined = min(joined, end - timedelta(hours=1))
        stop = end
        if persona == DRIFTING:
            stop = end - timedelta(days=rng.uniform(95, 210))
        sources = self._sources(persona)
        interests = rng.sample(range(len(texts.TOPICS)), 3 if persona == EXPERT else 2)
        return Person(
            index=index,
            persona=persona,
            culture=culture,
            style=style,
            display_name=display,
            first_name=given,
            handle=handle,
            email=email,
            tz_hours=rng.choice(culture.tz_hours),
            city=rng.choice(culture.cities),
            joined=joined,
            start=max(joined, start),
            stop=stop,
            sources=sources,
            interests=interests,
            weights=WEIGHTS.get(persona, (0.0, 0.0, 0.0)),
            role=rng.choice(texts.ROLES),
        )

    def _sources(self, persona: str) -> list[str]:
        """Slack is home to most; about one member in eight is on two sources."""
        draw = self.rng.random()
        if persona == DRIFTING:
            # Their fading away is told by the Slack history (and the list, for some).
            return [SLACK, MAIL] if draw < 0.2 else [SLACK]
        if draw < 0.66:
            return [SLACK]
        if draw < 0.82:
            return [QA]
        if draw < 0.87:
            return [MAIL]
        if draw < 0.98:
            return [SLACK, MAIL]
        return [SLACK, QA]

    def _assign_ids(self, people: list[Person]) -> None:
        alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
        seen: set[str] = set()
        qa_id = 0
        for person in people:
            if SLACK in person.sources:
                while not person.slack_id or person.slack_id in seen:
                    person.slack_id = "U0" + "".join(self.rng.choices(alphabet, k=9))
                seen.add(person.slack_id)
            if QA in person.sources:
                qa_id += 1
                person.qa_id = qa_id

    # Who does what, when -------------------------------------------------------------------

    def pick(self, source: str, role: int, when: datetime) -> Person:
        """Someone on this source, active at this moment, drawn by how much they do `role`."""
        week = max(0, min((when - self.start).days // WEEK, DAYS // WEEK))
        key = (source, role, week)
        if key not in self.pools:
            lo = self.start + timedelta(days=week * WEEK)
            hi = lo + timedelta(days=WEEK)
            found = [
                p
                for p in self.people
                if source in p.sources and p.persona != BOT and p.start < hi and p.stop >= lo
            ]
            self.pools[key] = (found, list(accumulate(p.weights[role] for p in found)))
        found, cum = self.pools[key]
        for _ in range(12):
            person = found[bisect_right(cum, self.rng.random() * cum[-1])]
            if person.active(when):
                return person
        return self.rng.choice(self.staff)

    def pick_answerer(self, source: str, topic: int, when: datetime, asker: Person) -> Person:
        experts = [
            p
            for p in self.topic_experts.get(topic, [])
            if source in p.sources and p.active(when) and p is not asker
        ]
        if experts and self.rng.random() < 0.55:
            return self.rng.choice(experts)
        for _ in range(5):
            person = self.pick(source, ANSWER, when)
            if person is not asker:
                return person
        return self.rng.choice(self.staff)

    def reply_delay(self, person: Person) -> timedelta:
        """Experts and staff answer in minutes; others in hours, sometimes days."""
        fast = person.persona in (EXPERT, STAFF)
        minutes = math.exp(self.rng.gauss(math.log(18 if fast else 110), 1.0 if fast else 1.4))
        return timedelta(minutes=max(1.0, minutes), seconds=self.rng.randrange(60))

    # Text ----------------------------------------------------------------------------------

    def text(self, person: Person, kind: str, topic: Topic | None = None, **given: str) -> str:
        """A message of this kind in the person's voice: English, simple English, or their own
        language when they write in it."""
        rng = self.rng
        templates = texts.EN.get(kind, ())
        language = "en"
        native = texts.NATIVE.get(person.culture.language, {})
        if person.style == "native" and kind in native and rng.random() < 0.55:
            templates, language = native[kind], person.culture.language
        elif person.style in ("second", "native") and kind in texts.SECOND and rng.random() < 0.6:
            templates = texts.SECOND[kind]
        template = rng.choice(templates)
        slots = _Slots(rng, given)
        slots.setdefault("first", person.first_name)
        slots.setdefault("city", person.city)
        slots.setdefault("role", person.role)
        slots.setdefault("field", rng.choice(texts.FIELDS.get(language, texts.FIELDS["en"])))
        topic = topic or texts.TOPICS[rng.choice(person.interests or [0])]
        slots.setdefault("tag", topic.tag)
        slots.setdefault("goal", topic.goal)
        slots.setdefault("code", topic.code)
        slots.setdefault("error", topic.error)
        slots.setdefault("problem", topic.problem)
        slots.setdefault("problem_cap", topic.problem[:1].upper() + topic.problem[1:])
        slots.setdefault("fix", topic.fix)
        slots.setdefault("library", texts.LIBRARY)
        slots.setdefault("domain", texts.DOMAIN)
        return template.format_map(slots)

    def topic_for(self, person: Person) -> int:
        if person.interests and self.rng.random() < 0.75:
            return self.rng.choice(person.interests)
        return self.rng.randrange(len(texts.TOPICS))


# Local hour weights: a working day, and a lazier weekend.
_WEEKDAY_HOURS = (1, 1, 1, 1, 1, 2, 4, 7, 11, 14, 15, 14, 12, 14, 15, 15, 13, 10, 8, 7, 6, 5, 3, 2)
_WEEKEND_HOURS = (2, 1, 1, 1, 1, 1, 2, 3, 5, 7, 9, 10, 10, 10, 9, 9, 8, 8, 8, 8, 7, 6, 4, 3)


def generate_demo(
    out_dir: Path,
    *,
    seed: int = 42,
    members: int = 2000,
    interactions: int = 50000,
    end: datetime | None = None,
) -> DemoExports:
    """Write the demo community's three exports under `out_dir`; same seed and end, same bytes."""
    if end is None:
        end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    end = end.astimezone(UTC)
    rng = Random(seed)
    community = _Community(rng, members, end)

    out_dir.mkdir(parents=True, exist_ok=True)
    slack_dir = out_dir / "slack"
    qa_dir = out_dir / "stackexchange"
    mbox_file = out_dir / "mailing-list.mbox"
    for folder in (slack_dir, qa_dir):
        if folder.exists():
            shutil.rmtree(folder)
    mbox_file.unlink(missing_ok=True)

    budgets = {source: round(interactions * share) for source, share in SHARES.items()}
    slack = _SlackWriter(community, budgets[SLACK])
    slack.generate()
    qa = _QAWriter(community, budgets[QA])
    qa.generate()
    mail = _MailWriter(community, budgets[MAIL])
    mail.generate()
    slack.top_up_drifting()

    counts = {
        SLACK: slack.write(slack_dir),
        QA: qa.write(qa_dir),
        MAIL: mail.write(mbox_file),
    }
    manifest = {
        "seed": seed,
        "members": members,
        "interactions": interactions,
        "end": end.isoformat(),
        "counts": counts,
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return DemoExports(
        slack_dir=slack_dir,
        stackexchange_dir=qa_dir,
        mbox_file=mbox_file,
        members=len(community.people),
        counts=counts,
        interactions={
            SLACK: slack.interactions,
            QA: qa.interactions,
            MAIL: mail.interactions,
        },
    )


def previous_end(out_dir: Path, seed: int, members: int, interactions: int) -> datetime | None:
    """The end date of the community already generated in `out_dir` with these parameters."""
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        if (manifest["seed"], manifest["members"], manifest["interactions"]) == (
            seed,
            members,
            interactions,
        ):
            return datetime.fromisoformat(manifest["end"]).astimezone(UTC)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _ascii(name: str) -> str:
    """A handle or an email's local part: letters without accents, digits and dots."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded if ch.isalnum() or ch == ".")


def _mention(person: Person) -> str:
    return f"<@{person.slack_id}>"


class _SlackWriter:
    def __init__(self, community: _Community, budget: int) -> None:
        self.c = community
        self.rng = community.rng
        self.budget = budget
        self.channel_ids = {
            name: "C0" + "".join(community.rng.choices("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", k=9))
            for name, _ in SLACK_CHANNELS
        }
        self.messages: list[SlackMessage] = []
        self.used: set[tuple[str, str]] = set()
        self.interactions = 0
        self.authored: dict[int, int] = {}
        self.members = [p for p in community.people if SLACK in p.sources]
        self.channel_members: dict[str, set[str]] = {name: set() for name, _ in SLACK_CHANNELS}

    # Building blocks -----------------------------------------------------------------------

    def _ts(self, channel: str, when: datetime) -> str:
        seconds = int(when.timestamp())
        while True:
            ts = f"{seconds}.{self.rng.randrange(1, 999999):06d}"
            if (channel, ts) not in self.used:
                self.used.add((channel, ts))
                return ts

    def post(
        self,
        channel: str,
        author: Person,
        when: datetime,
        text: str,
        *,
        parent: SlackMessage | None = None,
        subtype: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> SlackMessage | None:
        if when >= self.c.end or not author.active(when):
            return None
        if parent is not None and when <= _ts_time(parent.ts):
            when = _ts_time(parent.ts) + timedelta(seconds=self.rng.randrange(30, 600))
            if when >= self.c.end or not author.active(when):
                return None
        ts = self._ts(channel, when)
        data: dict[str, Any] = {"type": "message"}
        if subtype:
            data["subtype"] = subtype
        if subtype != "channel_join":
            data["client_msg_id"] = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        data["text"] = text
        data["user"] = author.slack_id
        if author.persona == BOT:
            data["bot_id"] = "B" + author.slack_id[1:]
        data["ts"] = ts
        data["team"] = "T0PL0TL1NE"
        if extra:
            data.update(extra)
        if parent is not None:
            data["thread_ts"] = parent.ts
            data["parent_user_id"] = parent.data["user"]
            parent.reply_ts.append(ts)
        if (
            subtype is None
            and author.persona != BOT
            and self.rng.random() < 0.05
            and when + timedelta(minutes=3) < self.c.end
        ):
            edited = when + timedelta(seconds=self.rng.randrange(20, 900))
            if author.active(edited) and edited < self.c.end:
                data["edited"] = {
                    "user": author.slack_id,
                    "ts": f"{int(edited.timestamp())}.000000",
                }
        message = SlackMessage(channel, ts, data)
        self.messages.append(message)
        self.channel_members[channel].add(author.slack_id)
        self._count(author)
        return message

    def _count(self, person: Person) -> None:
        self.interactions += 1
        self.authored[person.index] = self.authored.get(person.index, 0) + 1

    def react(self, message: SlackMessage | None, emoji: Sequence[str], count: int) -> None:
        if message is None or count <= 0:
            return
        when = _ts_time(message.ts)
        reactions: dict[str, list[str]] = {}
        author = message.data["user"]
        seen: set[str] = {author}
        for _ in range(count):
            person = self.c.pick(SLACK, CHAT, when)
            if person.slack_id in seen or not person.active(when):
                continue
            seen.add(person.slack_id)
            name = self.rng.choice(emoji)
            reactions.setdefault(name, []).append(person.slack_id)
            self._count(person)
        if reactions:
            message.data["reactions"] = [
                {"name": name, "users": users, "count": len(users)}
                for name, users in reactions.items()
            ]

    def react_as(self, message: SlackMessage | None, person: Person, emoji: str) -> None:
        if message is None or person.slack_id == message.data["user"]:
            return
        if not person.active(_ts_time(message.ts)):
            return
        reactions: list[dict[str, Any]] = message.data.setdefault("reactions", [])
        for reaction in reactions:
            if person.slack_id in reaction["users"]:
                return
        for reaction in reactions:
            if reaction["name"] == emoji:
                reaction["users"].append(person.slack_id)
                reaction["count"] += 1
                break
        else:
            reactions.append({"name": emoji, "users": [person.slack_id], "count": 1})
        self._count(person)

    # The community's life ------------------------------------------------------------------

    def generate(self) -> None:
        c, rng = self.c, self.rng
        self._joins_and_introductions()
        self._releases_and_bots()
        self._events_and_milestones()
        kinds = (self._help_thread, self._chatter, self._show_and_tell)
        weights = (0.42, 0.40, 0.18)
        while self.interactions < self.budget:
            rng.choices(kinds, weights=weights)[0](c.random_day())
        self._spam_and_heat()

    def _spam_and_heat(self) -> None:
        """What a moderator sees in an open community: spam from throwaway accounts that join,
        post once in #general and are deactivated, and a few replies in #help that go too far."""
        c, rng = self.c, self.rng
        taken = {p.slack_id for p in self.members}
        for n, (name, handle, text) in enumerate(texts.SPAMMERS):
            joined = c.end - timedelta(days=rng.uniform(0.5, 25))
            spammer = Person(
                index=len(c.people) + n,
                persona=SPAMMER,
                culture=texts.CULTURES[0],
                style="fluent",
                display_name=name,
                first_name=name.split()[0],
                handle=handle,
                email="",
                tz_hours=0.0,
                city="",
                joined=joined,
                start=joined,
                stop=c.end,
                sources=[SLACK],
                interests=[],
                weights=(0.0, 0.0, 0.0),
            )
            while not spammer.slack_id or spammer.slack_id in taken:
                spammer.slack_id = "U0" + "".join(
                    rng.choices("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", k=9)
                )
            taken.add(spammer.slack_id)
            self.members.append(spammer)
            self.post(
                "general",
                spammer,
                joined,
                f"<@{spammer.slack_id}> has joined the channel",
                subtype="channel_join",
            )
            self.post("general", spammer, joined + timedelta(minutes=rng.uniform(1, 20)), text)
        threads = [
            m
            for m in self.messages
            if m.channel == "help" and m.reply_ts and "thread_ts" not in m.data
        ]
        regulars = [p for p in self.members if p.persona == REGULAR]
        for text, thread in zip(texts.HEATED, rng.sample(threads, len(texts.HEATED)), strict=True):
            when = _ts_time(thread.ts) + timedelta(hours=rng.uniform(1, 30))
            self.post("help", rng.choice(regulars), when, text, parent=thread)

    def _joins_and_introductions(self) -> None:
        c, rng = self.c, self.rng
        for person in self.members:
            if person.persona == BOT or person.joined < c.start:
                continue
            channels = ["general"]
            if rng.random() < 0.5:
                channels.append("help")
            if rng.random() < 0.3:
                channels.append("introductions")
            for offset, channel in enumerate(channels):
                self.post(
                    channel,
                    person,
                    person.joined + timedelta(seconds=offset * rng.randrange(5, 90)),
                    f"<@{person.slack_id}> has joined the channel",
                    subtype="channel_join",
                )
            introduces = 0.75 if person.persona == NEWCOMER else 0.3
            if rng.random() < introduces:
                when = person.joined + timedelta(minutes=rng.uniform(2, 600))
                intro = self.post("introductions", person, when, c.text(person, "intro"))
                self._welcome(intro, person, when)
                self.react(intro, ("wave", "tada", "raised_hands", "heart"), rng.randrange(0, 6))
            if person.persona == NEWCOMER and rng.random() < 0.6:
                # A newcomer's first question: one in three is never answered.
                when = person.joined + timedelta(hours=rng.uniform(1, 24 * 6))
                self._help_thread(None, asker=person, when=when, unanswered=rng.random() < 0.35)

    def _welcome(self, intro: SlackMessage | None, person: Person, when: datetime) -> None:
        if intro is None or self.rng.random() > 0.8:
            return
        greeter = self.rng.choice(self.c.staff)
        later = when + timedelta(minutes=self.rng.uniform(5, 300))
        self.post(
            "introductions",
            greeter,
            later,
            self.c.text(greeter, "welcome", mention=_mention(person)),
            parent=intro,
        )

    def _releases_and_bots(self) -> None:
        c, rng = self.c, self.rng
        bot = c.bots[0]
        for day, version, highlights in texts.RELEASES:
            when = c.start + timedelta(days=day, hours=15, minutes=rng.randrange(60))
            message = self.post(
                "releases",
                bot,
                when,
                c.text(bot, "release", version=version, highlights=highlights),
            )
            self.react(message, texts.EMOJI_RELEASE, rng.randrange(8, 30))
            announcer = rng.choice(c.staff)
            note = self.post(
                "general",
                announcer,
                when + timedelta(minutes=rng.randrange(5, 40)),
                f"{texts.LIBRARY} {version} is out 🎉 Thank you to everyone who tested the "
                f"release candidates! Please report anything odd in #help.",
            )
            self.react(note, texts.EMOJI_RELEASE, rng.randrange(5, 20))
            # Release day: people upgrade and hit problems.
            for _ in range(rng.randrange(3, 9) if version.endswith(".0") else rng.randrange(1, 3)):
                at = when + timedelta(hours=rng.uniform(0.5, 30))
                asker = c.pick(SLACK, ASK, at)
                self._help_thread(None, asker=asker, when=at, release=True)
        ci = c.bots[-1]
        for day in range(0, DAYS, 2):
            when = c.start + timedelta(days=day, hours=4, minutes=rng.randrange(20))
            if when.weekday() >= 5:
                continue  # the nightly build runs on working days
            kind = "ci_fail" if rng.random() < 0.15 else "ci_ok"
            tag = rng.choice(texts.TOPICS)
            message = self.post(
                "contributors",
                ci,
                when,
                c.text(
                    ci,
                    kind,
                    tag,
                    tests=f"{1180 + day * 3:,}",
                    minutes=str(rng.randrange(9, 17)),
                ),
            )
            if kind == "ci_fail" and message is not None:
                fixer = rng.choice(c.staff)
                self.post(
                    "contributors",
                    fixer,
                    when + timedelta(hours=rng.uniform(3, 8)),
                    rng.choice(
                        (
                            "Looking into it 👀",
                            "Fixed in the last commit.",
                            "Flaky test, rerunning.",
                        )
                    ),
                    parent=message,
                )

    def _events_and_milestones(self) -> None:
        c, rng = self.c, self.rng
        for day in range(4, DAYS, 14):
            host = rng.choice(c.staff)
            when = c.local_time(day, host)
            date = (when + timedelta(days=rng.randrange(5, 12))).strftime("%A %d %B")
            message = self.post(
                "events", host, when, c.text(host, "event", date=date, version=c.version(when))
            )
            self.react(message, ("calendar", "raised_hands", "+1", "eyes"), rng.randrange(2, 12))
            for _ in range(rng.randrange(0, 6)):
                at = when + timedelta(hours=rng.uniform(0.2, 72))
                person = c.pick(SLACK, CHAT, at)
                self.post("events", person, at, c.text(person, "event_reply"), parent=message)
        members_so_far = 1000
        for day in (60, 150, 240, 330):
            host = c.staff[0]
            when = c.local_time(day, host)
            members_so_far += rng.randrange(300, 600)
            message = self.post(
                "general",
                host,
                when,
                c.text(
                    host,
                    "milestone",
                    stars=f"{(day // 60) * 1000 + 4000:,}",
                    members=f"{members_so_far:,}",
                    answers=str(rng.randrange(150, 400)),
                ),
            )
            self.react(message, texts.EMOJI_SHOW, rng.randrange(10, 35))

    def _help_thread(
        self,
        day: int | None,
        *,
        asker: Person | None = None,
        when: datetime | None = None,
        unanswered: bool | None = None,
        release: bool = False,
    ) -> None:
        c, rng = self.c, self.rng
        if when is None:
            when = c.local_time(day or 0, c.staff[0])
        if asker is None:
            asker = c.pick(SLACK, ASK, when)
            when = c.local_time((when - c.start).days, asker)
        topic_index = c.topic_for(asker)
        topic = texts.TOPICS[topic_index]
        version = c.version(when)
        kind = "release_question" if release else "question"
        question = self.post("help", asker, when, c.text(asker, kind, topic, version=version))
        if question is None:
            return
        if unanswered is None:
            unanswered = rng.random() < (0.3 if asker.persona == NEWCOMER else 0.08)
        if unanswered:
            if rng.random() < 0.3:
                later = when + timedelta(hours=rng.uniform(20, 60))
                self.post("help", asker, later, c.text(asker, "bump", topic), parent=question)
            return
        helper = c.pick_answerer(SLACK, topic_index, when, asker)
        at = when + c.reply_delay(helper)
        if at - when > timedelta(hours=20) and rng.random() < 0.5:
            self.post(
                "help",
                asker,
                when + (at - when) / 2,
                c.text(asker, "frustrated", topic),
                parent=question,
            )
        if rng.random() < 0.25:
            self.post("help", helper, at, c.text(helper, "clarify", topic), parent=question)
            at += c.reply_delay(asker)
            self.post(
                "help", asker, at, c.text(asker, "details", topic, version=version), parent=question
            )
            at += c.reply_delay(helper)
        answer = self.post(
            "help", helper, at, c.text(helper, "answer", topic, version=version), parent=question
        )
        if answer is None:
            return
        self.react(answer, ("+1", "100", "white_check_mark"), rng.randrange(0, 4))
        if rng.random() < 0.2:
            other = c.pick_answerer(SLACK, topic_index, at, asker)
            at += c.reply_delay(other)
            self.post(
                "help", other, at, c.text(other, "answer", topic, version=version), parent=question
            )
        at += c.reply_delay(asker)
        if rng.random() < 0.7:
            self.post(
                "help",
                asker,
                at,
                c.text(asker, "thanks", topic, mention=_mention(helper)),
                parent=question,
            )
            self.react_as(answer, asker, rng.choice(texts.EMOJI_THANKS))
        elif rng.random() < 0.5:
            self.post("help", asker, at, c.text(asker, "followup", topic), parent=question)

    def _chatter(self, day: int) -> None:
        c, rng = self.c, self.rng
        when = c.local_time(day, c.staff[0])
        author = c.pick(SLACK, CHAT, when)
        when = c.local_time(day, author)
        channel = "random" if rng.random() < 0.5 else "general"
        mention = ""
        if rng.random() < 0.2:
            mention = _mention(c.pick(SLACK, ANSWER, when))
        message = self.post(channel, author, when, c.text(author, "chatter", mention=mention))
        if message is None:
            return
        self.react(message, texts.EMOJI_CHAT, rng.choice((0, 0, 1, 2, 3, 5)))
        threaded = rng.random() < 0.6
        at = when
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 4))):
            at += timedelta(minutes=rng.uniform(1, 180))
            person = c.pick(SLACK, CHAT, at)
            self.post(
                channel,
                person,
                at,
                c.text(person, "chat_reply"),
                parent=message if threaded else None,
            )

    def _show_and_tell(self, day: int) -> None:
        c, rng = self.c, self.rng
        when = c.local_time(day, c.staff[0])
        author = c.pick(SLACK, CHAT, when)
        when = c.local_time(day, author)
        text = c.text(author, "show")
        extra: dict[str, Any] | None = None
        subtype = None
        if rng.random() < 0.35:
            subtype = "file_share"
            extra = {"files": [self._file(author, when)], "upload": True, "display_as_bot": False}
        message = self.post("show-and-tell", author, when, text, subtype=subtype, extra=extra)
        if message is None:
            return
        self.react(message, texts.EMOJI_SHOW, rng.randrange(2, 16))
        at = when
        for _ in range(rng.randrange(0, 6)):
            at += timedelta(minutes=rng.uniform(3, 400))
            person = c.pick(SLACK, CHAT, at)
            if person is author:
                continue
            self.post("show-and-tell", person, at, c.text(person, "compliment"), parent=message)
        if message.reply_ts and rng.random() < 0.6:
            at += c.reply_delay(author)
            self.post(
                "show-and-tell",
                author,
                at,
                rng.choice(
                    (
                        "Thank you all! 😊",
                        "Thanks! Code is on GitHub, link in my profile.",
                        "Glad you like it 🙏",
                    )
                ),
                parent=message,
            )

    def _file(self, author: Person, when: datetime) -> dict[str, Any]:
        file_id = "F0" + "".join(self.rng.choices("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", k=9))
        chart = self.rng.choice(texts.CHARTS).replace(" ", "_").lower()
        name = f"{chart}_{when:%Y%m%d}.png"
        return {
            "id": file_id,
            "created": int(when.timestamp()),
            "timestamp": int(when.timestamp()),
            "name": name,
            "title": name,
            "mimetype": "image/png",
            "filetype": "png",
            "pretty_type": "PNG",
            "user": author.slack_id,
            "editable": False,
            "size": self.rng.randrange(40_000, 900_000),
            "mode": "hosted",
            "is_external": False,
            "is_public": True,
            "url_private": f"https://files.slack.com/files-pri/T0PL0TL1NE-{file_id}/{name}",
            "permalink": f"https://plotline-community.slack.com/files/{author.slack_id}/{file_id}/{name}",
        }

    def top_up_drifting(self) -> None:
        """Members drifting away had a real history: at least five things said before they went
        quiet."""
        c, rng = self.c, self.rng
        for person in self.members:
            if person.persona != DRIFTING:
                continue
            span = (person.stop - person.start).days
            while self.authored.get(person.index, 0) < 5 + person.index % 4:
                day = (person.start - c.start).days + rng.randrange(max(span, 1))
                when = c.local_time(day, person)
                when = min(max(when, person.start), person.stop)
                channel = rng.choice(("general", "random", "help", "show-and-tell"))
                kind = {"general": "chatter", "random": "chatter", "help": "question"}.get(
                    channel, "show"
                )
                self.post(channel, person, when, c.text(person, kind))

    # Writing -------------------------------------------------------------------------------

    def write(self, folder: Path) -> dict[str, int]:
        c = self.c
        folder.mkdir(parents=True)
        users = [self._user(p) for p in self.members]
        _write_json(folder / "users.json", users)
        channels = []
        for name, purpose in SLACK_CHANNELS:
            creator = c.staff[0].slack_id
            created = int((c.start - timedelta(days=800)).timestamp())
            channels.append(
                {
                    "id": self.channel_ids[name],
                    "name": name,
                    "created": created,
                    "creator": creator,
                    "is_archived": False,
                    "is_general": name == "general",
                    "members": sorted(self.channel_members[name]),
                    "topic": {"value": "", "creator": "", "last_set": 0},
                    "purpose": {"value": purpose, "creator": creator, "last_set": created},
                }
            )
        _write_json(folder / "channels.json", channels)

        by_ts = {(m.channel, m.ts): m for m in self.messages}
        counts = {
            "users": len(users),
            "channels": len(channels),
            "messages": 0,
            "replies": 0,
            "joins": 0,
            "reactions": 0,
            "files": 0,
            "edited": 0,
            "threads": 0,
        }
        for message in self.messages:
            if message.reply_ts:
                replies = sorted(message.reply_ts, key=float)
                reply_users = [by_ts[(message.channel, ts)].data["user"] for ts in replies]
                message.data.update(
                    {
                        "thread_ts": message.ts,
                        "reply_count": len(replies),
                        "reply_users_count": len(set(reply_users)),
                        "latest_reply": replies[-1],
                        "reply_users": list(dict.fromkeys(reply_users)),
                        "replies": [
                            {"user": u, "ts": ts}
                            for u, ts in zip(reply_users, replies, strict=True)
                        ],
                        "is_locked": False,
                        "subscribed": False,
                    }
                )
                counts["threads"] += 1
        days: dict[tuple[str, str], list[SlackMessage]] = {}
        for message in self.messages:
            date = _ts_time(message.ts).strftime("%Y-%m-%d")
            days.setdefault((message.channel, date), []).append(message)
            data = message.data
            counts["messages"] += 1
            counts["replies"] += "thread_ts" in data and data["thread_ts"] != data["ts"]
            counts["joins"] += data.get("subtype") == "channel_join"
            counts["files"] += data.get("subtype") == "file_share"
            counts["edited"] += "edited" in data
            counts["reactions"] += sum(len(r["users"]) for r in data.get("reactions", []))
        for (channel, date), messages in sorted(days.items()):
            (folder / channel).mkdir(exist_ok=True)
            messages.sort(key=lambda m: float(m.ts))
            _write_json(folder / channel / f"{date}.json", [m.data for m in messages])
        return counts

    def _user(self, person: Person) -> dict[str, Any]:
        parts = person.display_name.split(" ", 1)
        profile: dict[str, Any] = {
            "title": person.role if person.persona == STAFF else "",
            "real_name": person.display_name,
            "real_name_normalized": person.display_name,
            "display_name": person.handle.split(".")[0] if self.rng.random() < 0.3 else "",
            "display_name_normalized": "",
            "first_name": parts[0],
            "last_name": parts[1] if len(parts) > 1 else "",
            "status_text": "",
            "status_emoji": "",
            "avatar_hash": f"{person.index:012x}",
            "team": "T0PL0TL1NE",
        }
        profile["display_name_normalized"] = profile["display_name"]
        if person.email:
            profile["email"] = person.email
        if person.persona == BOT:
            profile["bot_id"] = "B" + person.slack_id[1:]
        offset = int(person.tz_hours * 3600)
        return {
            "id": person.slack_id,
            "team_id": "T0PL0TL1NE",
            "name": person.handle,
            "deleted": person.persona == SPAMMER,  # deactivated by an admin
            "color": f"{(person.index * 2654435761) % 0xFFFFFF:06x}",
            "real_name": person.display_name,
            "tz": _TZ_NAMES.get(person.tz_hours, "UTC"),
            "tz_label": "",
            "tz_offset": offset,
            "profile": profile,
            "is_admin": person.persona == STAFF,
            "is_owner": person.persona == STAFF and person.index == 0,
            "is_primary_owner": person.index == 0,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": person.persona == BOT,
            "is_app_user": False,
            "updated": int(person.joined.timestamp()),
        }


_TZ_NAMES = {
    -8: "America/Los_Angeles",
    -7: "America/Denver",
    -6: "America/Mexico_City",
    -5: "America/New_York",
    -3: "America/Sao_Paulo",
    0: "Europe/London",
    1: "Europe/Berlin",
    2: "Africa/Cairo",
    3: "Europe/Moscow",
    5.5: "Asia/Kolkata",
    7: "Asia/Novosibirsk",
    8: "Asia/Shanghai",
    9: "Asia/Tokyo",
    10: "Australia/Melbourne",
}


def _ts_time(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


def _write_json(path: Path, items: list[Any]) -> None:
    """A JSON array, one item a line: readable, and written by json's fast C encoder."""
    lines = ",\n".join(json.dumps(item, ensure_ascii=False) for item in items)
    path.write_text(f"[\n{lines}\n]\n", encoding="utf-8")


class _QAWriter:
    """A Stack Exchange site for Plotline questions: the dump's Posts, Users, Comments, Votes
    and Badges."""

    def __init__(self, community: _Community, budget: int) -> None:
        self.c = community
        self.rng = community.rng
        self.budget = budget
        self.posts: list[Post] = []
        self.comments: list[Comment] = []
        self.badges: list[tuple[Person, str, datetime, int, bool]] = []
        self.interactions = 0
        self.members = [p for p in community.people if QA in p.sources]

    def generate(self) -> None:
        c, rng = self.c, self.rng
        for person in self.members:
            if person.persona == NEWCOMER and rng.random() < 0.7:
                when = person.joined + timedelta(hours=rng.uniform(1, 24 * 5))
                self._question(asker=person, when=when, unanswered=rng.random() < 0.4)
        # Badges come last, from what happened: keep room for them.
        while self.interactions < self.budget * 0.94:
            self._question(day=c.random_day())
        self._badges()

    def _vote_times(self, post: Post, count: int) -> list[datetime]:
        # A vote on a post is dated within weeks of it, and never after its author left, so
        # that nothing new seems to happen around someone who went quiet.
        limit = min(self.c.end - timedelta(minutes=1), post.owner.stop)
        span = (limit - post.created).total_seconds()
        if span <= 0:
            return []
        return sorted(
            post.created + timedelta(seconds=span * self.rng.random() ** 3) for _ in range(count)
        )

    def _question(
        self,
        *,
        day: int = 0,
        asker: Person | None = None,
        when: datetime | None = None,
        unanswered: bool | None = None,
    ) -> None:
        c, rng = self.c, self.rng
        if asker is None or when is None:
            when = c.local_time(day, c.staff[0])
            asker = c.pick(QA, ASK, when)
            when = c.local_time(day, asker)
        if when >= c.end or not asker.active(when):
            return
        topic_index = c.topic_for(asker)
        topic = texts.TOPICS[topic_index]
        version = c.version(when)
        # The site is English-only, but now and then someone asks in their own language.
        foreign = asker.style == "native" and rng.random() < 0.15
        writer = asker if foreign else _fluent(asker)
        question_text = c.text(writer, "question", topic, version=version)
        title = self._title(topic, version)
        body = (
            f"<p>{_html(question_text)}</p>\n"
            f"<pre><code>import plotline as pl\n\n{escape(topic.code)}\n</code></pre>\n"
            f"<p>I'm using Plotline {version} with Python 3.{rng.randrange(9, 13)}.</p>\n"
        )
        question = Post(
            key=len(self.posts),
            kind=1,
            created=when,
            owner=asker,
            body=body,
            title=title,
            tags="".join(f"<{t}>" for t in dict.fromkeys(["plotline", topic.tag])),
        )
        self._add_post(question)
        if foreign:
            staff = rng.choice(c.staff)
            at = when + c.reply_delay(staff)
            self._comment(
                question,
                staff,
                at,
                texts.QA_NOT_ENGLISH.format(
                    language=texts.LANGUAGE_NAMES.get(asker.culture.language, "your language")
                ),
            )
        if unanswered is None:
            unanswered = rng.random() < (0.35 if asker.persona == NEWCOMER else 0.12)
        if rng.random() < 0.3:
            commenter = c.pick_answerer(QA, topic_index, when, asker)
            at = when + c.reply_delay(commenter)
            slots = _Slots(rng, {"tag": topic.tag, "version": version})
            self._comment(
                question, commenter, at, rng.choice(texts.QA_COMMENTS_ON_QUESTION).format_map(slots)
            )
        if not unanswered:
            answers = self._answers(question, topic_index, topic, version)
            self._accept(question, answers)
        self._votes(question, rng.choice((0, 0, 0, 1, 1, 2, 4)), downvotes=rng.random() < 0.06)

    def _title(self, topic: Topic, version: str) -> str:
        template = self.rng.choice(texts.QA_TITLES)
        short_code = topic.code.split("(")[0] + "()" if "(" in topic.code else topic.code
        return template.format(
            goal=topic.goal,
            error=topic.error.split(":")[0],
            short_code=short_code,
            problem=topic.problem,
            tag_cap=topic.tag.capitalize(),
            version=version,
        )

    def _answers(self, question: Post, topic_index: int, topic: Topic, version: str) -> list[Post]:
        c, rng = self.c, self.rng
        answers: list[Post] = []
        at = question.created
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            helper = c.pick_answerer(QA, topic_index, at, question.owner)
            at = at + c.reply_delay(helper)
            if at >= c.end or not helper.active(at) or any(a.owner is helper for a in answers):
                continue
            text = c.text(_fluent(helper), "answer", topic, version=version)
            body = (
                f"<p>{_html(text)}</p>\n<pre><code>{escape(topic.fix)}\n</code></pre>\n"
                f'<p>See the <a href="https://{texts.DOMAIN}/docs/{topic.tag}">{topic.tag} '
                f"guide</a> for the details.</p>\n"
            )
            answer = Post(
                key=len(self.posts), kind=2, created=at, owner=helper, body=body, parent=question
            )
            self._add_post(answer)
            question.answers += 1
            answers.append(answer)
            strong = helper.persona in (EXPERT, STAFF)
            self._votes(
                answer,
                rng.randrange(1, 9) if strong else rng.randrange(0, 3),
                downvotes=not strong and rng.random() < 0.1,
            )
            if rng.random() < 0.35:
                commenter = question.owner if rng.random() < 0.7 else c.pick(QA, ANSWER, at)
                slots = _Slots(rng, {"version": version})
                self._comment(
                    answer,
                    commenter,
                    at + c.reply_delay(commenter),
                    rng.choice(texts.QA_COMMENTS_ON_ANSWER).format_map(slots),
                )
        return answers

    def _accept(self, question: Post, answers: list[Post]) -> None:
        if not answers or self.rng.random() > 0.65:
            return
        best = max(answers, key=lambda a: (a.owner.persona in (EXPERT, STAFF), -a.key))
        at = best.created + timedelta(minutes=self.rng.uniform(5, 60 * 30))
        if at >= self.c.end or not question.owner.active(at) or not best.owner.active(at):
            return
        question.accepted, question.accepted_at = best, at
        self.interactions += 1  # the accepted-answer vote

    def _add_post(self, post: Post) -> None:
        if self.rng.random() < 0.1:
            edited = post.created + timedelta(minutes=self.rng.uniform(2, 240))
            if edited < self.c.end and post.owner.active(edited):
                post.edited = edited
        self.posts.append(post)
        self.interactions += 1

    def _comment(self, post: Post, owner: Person, when: datetime, text: str) -> None:
        if when >= self.c.end or not owner.active(when):
            return
        self.comments.append(Comment(post, when, owner, text))
        post.comments += 1
        self.interactions += 1

    def _votes(self, post: Post, up: int, *, downvotes: bool) -> None:
        post.upvotes = self._vote_times(post, up)
        post.downvotes = self._vote_times(post, 1) if downvotes else []
        self.interactions += len(post.upvotes) + len(post.downvotes)

    def _badges(self) -> None:
        """The badges Stack Exchange would have awarded, at the moment they were earned."""
        firsts: dict[tuple[int, str], datetime] = {}

        def award(person: Person, name: str, when: datetime, badge_class: int = 3) -> None:
            if (person.index, name) in firsts or when >= self.c.end or not person.active(when):
                return
            firsts[(person.index, name)] = when
            self.badges.append((person, name, when, badge_class, False))
            self.interactions += 1

        for person in self.members:
            if person.persona in (REGULAR, EXPERT, STAFF) and person.start > self.c.start:
                award(person, "Autobiographer", person.start + timedelta(minutes=20))
        for post in sorted(self.posts, key=lambda p: p.created):
            score = len(post.upvotes) - len(post.downvotes)
            soon = post.created + timedelta(hours=2)
            if post.kind == 1 and score >= 1:
                award(post.owner, "Student", soon)
            if post.kind == 2 and score >= 1:
                award(post.owner, "Teacher", soon)
            if post.kind == 2 and score >= 10:
                award(post.owner, "Nice Answer", soon + timedelta(days=1), 3)
            if post.kind == 1 and post.accepted is not None and post.accepted_at is not None:
                award(post.owner, "Scholar", post.accepted_at + timedelta(minutes=1))
            if post.edited is not None:
                award(post.owner, "Editor", post.edited + timedelta(minutes=1))
        comments_by: dict[int, int] = {}
        for comment in sorted(self.comments, key=lambda x: x.created):
            comments_by[comment.owner.index] = comments_by.get(comment.owner.index, 0) + 1
            if comments_by[comment.owner.index] == 10:
                award(comment.owner, "Commentator", comment.created + timedelta(minutes=1))

    # Writing -------------------------------------------------------------------------------

    def write(self, folder: Path) -> dict[str, int]:
        folder.mkdir(parents=True)
        self.posts.sort(key=lambda p: (p.created, p.key))
        for number, post in enumerate(self.posts, start=1):
            post.post_id = number
        for post in self.posts:
            if post.parent is not None:
                parent = post.parent
                parent.last_activity = max(parent.last_activity or parent.created, post.created)
        counts = {
            "users": 0,
            "questions": 0,
            "answers": 0,
            "comments": 0,
            "votes": 0,
            "upvotes": 0,
            "downvotes": 0,
            "accepted": 0,
            "badges": 0,
            "unanswered": 0,
        }

        reputation: dict[int, int] = {}
        for post in self.posts:
            per_vote = 10 if post.kind == 2 else 5
            gained = per_vote * len(post.upvotes) - 2 * len(post.downvotes)
            if post.parent is not None and post.parent.accepted is post:
                gained += 15
            reputation[post.owner.index] = reputation.get(post.owner.index, 0) + gained
        users = [self._user_row(p, reputation) for p in [None, *self.members]]
        counts["users"] = len(users)
        _write_rows(folder / "Users.xml", "users", users)

        rows = []
        for post in self.posts:
            score = len(post.upvotes) - len(post.downvotes)
            row: dict[str, Any] = {"Id": post.post_id, "PostTypeId": post.kind}
            if post.accepted is not None:
                row["AcceptedAnswerId"] = post.accepted.post_id
            if post.parent is not None:
                row["ParentId"] = post.parent.post_id
            row["CreationDate"] = _se_date(post.created)
            row["Score"] = score
            if post.kind == 1:
                row["ViewCount"] = 12 + score * 37 + post.answers * 21 + post.key % 97
            row["Body"] = post.body
            row["OwnerUserId"] = post.owner.qa_id
            if post.edited is not None:
                row["LastEditorUserId"] = post.owner.qa_id
                row["LastEditDate"] = _se_date(post.edited)
            row["LastActivityDate"] = _se_date(
                max(post.last_activity or post.created, post.edited or post.created)
            )
            if post.kind == 1:
                row["Title"] = post.title
                row["Tags"] = post.tags
                row["AnswerCount"] = post.answers
                counts["questions"] += 1
                counts["unanswered"] += post.answers == 0
            else:
                counts["answers"] += 1
            row["CommentCount"] = post.comments
            row["ContentLicense"] = LICENSE
            rows.append(row)
        _write_rows(folder / "Posts.xml", "posts", rows)

        self.comments.sort(key=lambda x: x.created)
        comment_rows = [
            {
                "Id": number,
                "PostId": comment.post.post_id,
                "Score": 0,
                "Text": comment.text,
                "CreationDate": _se_date(comment.created),
                "UserId": comment.owner.qa_id,
                "ContentLicense": LICENSE,
            }
            for number, comment in enumerate(self.comments, start=1)
        ]
        counts["comments"] = len(comment_rows)
        _write_rows(folder / "Comments.xml", "comments", comment_rows)

        votes: list[tuple[datetime, int, int]] = []
        for post in self.posts:
            votes += [(when, post.post_id, 2) for when in post.upvotes]
            votes += [(when, post.post_id, 3) for when in post.downvotes]
            if post.accepted is not None and post.accepted_at is not None:
                votes.append((post.accepted_at, post.accepted.post_id, 1))
        votes.sort()
        vote_rows = []
        for number, (when, post_id, vote_type) in enumerate(votes, start=1):
            # Dumps keep only the day of a vote, for the voters' privacy.
            day = when.replace(hour=0, minute=0, second=0, microsecond=0)
            vote_rows.append(
                {
                    "Id": number,
                    "PostId": post_id,
                    "VoteTypeId": vote_type,
                    "CreationDate": _se_date(day),
                }
            )
            counts["upvotes"] += vote_type == 2
            counts["downvotes"] += vote_type == 3
            counts["accepted"] += vote_type == 1
        counts["votes"] = len(vote_rows)
        _write_rows(folder / "Votes.xml", "votes", vote_rows)

        self.badges.sort(key=lambda b: (b[2], b[0].qa_id))
        badge_rows = [
            {
                "Id": number,
                "UserId": person.qa_id,
                "Name": name,
                "Date": _se_date(when),
                "Class": badge_class,
                "TagBased": "True" if tag_based else "False",
            }
            for number, (person, name, when, badge_class, tag_based) in enumerate(
                self.badges, start=1
            )
        ]
        counts["badges"] = len(badge_rows)
        _write_rows(folder / "Badges.xml", "badges", badge_rows)
        return counts

    def _user_row(self, person: Person | None, reputation: dict[int, int]) -> dict[str, Any]:
        c = self.c
        if person is None:
            created = _se_date(c.start - timedelta(days=1200))
            return {
                "Id": -1,
                "Reputation": 1,
                "CreationDate": created,
                "DisplayName": "Community",
                "LastAccessDate": created,
                "Location": "on the server farm",
                "AboutMe": "<p>Hi, I'm not really a person.</p>\n<p>I'm a background process "
                "that helps keep this site clean!</p>",
                "Views": 0,
                "UpVotes": 0,
                "DownVotes": 0,
                "AccountId": -1,
            }
        row: dict[str, Any] = {
            "Id": person.qa_id,
            "Reputation": max(1, 1 + reputation.get(person.index, 0)),
            "CreationDate": _se_date(person.joined),
            "DisplayName": person.display_name,
            "LastAccessDate": _se_date(min(person.stop, c.end - timedelta(hours=1))),
        }
        if person.persona in (EXPERT, STAFF) or person.index % 5 == 0:
            row["WebsiteUrl"] = f"https://{person.handle.replace('.', '-')}.example.net"
        row["Location"] = person.city
        if person.persona in (REGULAR, EXPERT, STAFF):
            row["AboutMe"] = (
                f"<p>{escape(person.role.capitalize())} in {escape(person.city)}. "
                f"I mostly work on {escape(texts.TOPICS[person.interests[0]].tag)}.</p>"
            )
        row.update(
            {
                "Views": person.index % 40,
                "UpVotes": person.index % 23,
                "DownVotes": 0,
                "AccountId": 100000 + person.index,
            }
        )
        return row


def _fluent(person: Person) -> Person:
    """The same person writing English: Stack Exchange sites are English-only."""
    if person.style != "native":
        return person
    clone = Person(**{**person.__dict__})
    clone.style = "second"
    return clone


def _html(text: str) -> str:
    """Chat-style text as a Stack Exchange body renders it: escaped, `code` in <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text).replace("```", "`"))


def _se_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime(SE_DATE) + f".{when.microsecond // 1000:03d}"


_XML_ESCAPES = {'"': "&quot;", "\n": "&#xA;", "\r": "&#xD;", "\t": "&#x9;"}


def _write_rows(path: Path, root: str, rows: list[dict[str, Any]]) -> None:
    """A Stack Exchange dump file: BOM, CRLF, one <row> per record, every value escaped."""
    with path.open("w", encoding="utf-8-sig", newline="\r\n") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n')
        out.write(f"<{root}>\n")
        for row in rows:
            attributes = " ".join(
                f'{name}="{escape(str(value), _XML_ESCAPES)}"' for name, value in row.items()
            )
            out.write(f"  <row {attributes} />\n")
        out.write(f"</{root}>\n")


class _MailWriter:
    """The plotline-users mailing list, as the mbox archive of its messages."""

    LIST = "plotline-users"
    LIST_ID = f"Plotline users <{LIST}.lists.{texts.DOMAIN}>"

    def __init__(self, community: _Community, budget: int) -> None:
        self.c = community
        self.rng = community.rng
        self.budget = budget
        self.mails: list[Mail] = []
        self.interactions = 0
        self.threads = 0

    def _send(
        self, author: Person, when: datetime, subject: str, body: str, parent: Mail | None
    ) -> Mail | None:
        if when >= self.c.end or not author.active(when):
            return None
        if parent is not None and when <= parent.created:
            return None
        domain = author.email.rsplit("@", 1)[-1]
        token = "".join(self.rng.choices("0123456789abcdefghijklmnopqrstuvwxyz", k=20))
        mail = Mail(when, author, subject, body, f"<{token}@{domain}>", parent)
        self.mails.append(mail)
        self.interactions += 1
        return mail

    def generate(self) -> None:
        c, rng = self.c, self.rng
        announcer = c.staff[min(len(c.staff) - 1, 5)]
        for day, version, highlights in texts.RELEASES:
            when = c.start + timedelta(days=day, hours=16, minutes=rng.randrange(60))
            body = (
                f"Hi all,\n\nWe are happy to announce {texts.LIBRARY} {version}.\n\n"
                f"Highlights: {highlights}.\n\nUpgrade with:\n\n"
                f"    pip install --upgrade plotline=={version}\n\n"
                f"The full changelog is at https://{texts.DOMAIN}/changelog#{version}\n\n"
                f"Thank you to the {rng.randrange(12, 60)} people who contributed to this "
                f"release!\n\n{announcer.first_name}, for the {texts.LIBRARY} team\n"
            )
            announcement = self._send(
                announcer, when, f"[ANN] {texts.LIBRARY} {version} released", body, None
            )
            if announcement is not None:
                self.threads += 1
                self._replies(announcement, None, version, replies=rng.randrange(1, 5), ann=True)
        while self.interactions < self.budget:
            self._thread(c.random_day())

    def _thread(self, day: int) -> None:
        c, rng = self.c, self.rng
        when = c.local_time(day, c.staff[0])
        asker = c.pick(MAIL, ASK, when)
        when = c.local_time(day, asker)
        topic_index = c.topic_for(asker)
        topic = texts.TOPICS[topic_index]
        version = c.version(when)
        subject = f"[{self.LIST}] " + self.rng.choice(
            (
                f"How to {topic.goal}?",
                f"{topic.tag}: {topic.problem}",
                f"Problem with {topic.code.split('(')[0]} in {version}",
                f"Question about {topic.tag}",
            )
        )
        text = c.text(asker, "question", topic, version=version)
        body = (
            f"Hello,\n\n{text}\n\nMy code:\n\n    import plotline as pl\n    {topic.code}\n\n"
            f"{self._signature(asker)}"
        )
        root = self._send(asker, when, subject, body, None)
        if root is None:
            return
        self.threads += 1
        unanswered = rng.random() < (0.3 if asker.persona == NEWCOMER else 0.1)
        if not unanswered:
            self._replies(root, topic_index, version, replies=rng.choice((1, 1, 2, 2, 3, 4, 6)))

    def _replies(
        self, root: Mail, topic_index: int | None, version: str, *, replies: int, ann: bool = False
    ) -> None:
        c, rng = self.c, self.rng
        topic = texts.TOPICS[topic_index] if topic_index is not None else None
        parent = root
        at = root.created
        helper: Person | None = None
        for number in range(replies):
            if ann:
                person = c.pick(MAIL, CHAT, at)
                kind = "compliment" if rng.random() < 0.5 else "release_question"
            elif number % 2 == 0 or helper is None:
                person = c.pick_answerer(MAIL, topic_index or 0, at, root.author)
                helper = person
                kind = "answer" if number == 0 or rng.random() < 0.7 else "clarify"
            else:
                person = root.author
                kind = "thanks" if number >= 1 and rng.random() < 0.6 else "followup"
            at = at + c.reply_delay(person) + timedelta(minutes=rng.uniform(5, 240))
            mention = helper.first_name if helper is not None else ""
            text = c.text(person, kind, topic, version=version, mention=mention)
            body = (
                f"{text}\n\n{self._signature(person)}\n"
                f"On {format_datetime(parent.created)}, {parent.author.display_name} wrote:\n"
                + "\n".join("> " + line for line in parent.body.splitlines()[:12])
                + "\n"
            )
            subject = root.subject if root.subject.startswith("Re: ") else f"Re: {root.subject}"
            sent = self._send(person, at, subject, body, parent)
            if sent is None:
                break
            parent = sent

    @staticmethod
    def _signature(person: Person) -> str:
        return f"--\n{person.display_name}\n"

    def write(self, path: Path) -> dict[str, int]:
        self.mails.sort(key=lambda m: (m.created, m.message_id))
        box = mbox(str(path), create=True)
        box.lock()
        try:
            for mail in self.mails:
                box.add(self._message(mail))
            box.flush()
        finally:
            box.unlock()
            box.close()
        senders = {m.author.index for m in self.mails}
        return {"messages": len(self.mails), "threads": self.threads, "senders": len(senders)}

    def _message(self, mail: Mail) -> bytes:
        """One message as mailbox.mbox stores it. Header values are encoded by email.utils and
        email.header, the body by the utf-8 charset; rendering through email.message costs ten
        times more in header folding, for lines that need no folding."""
        author = mail.author
        local = timezone(timedelta(hours=author.tz_hours))
        headers = [
            ("From", formataddr((author.display_name, author.email), charset="utf-8")),
            ("To", f"{self.LIST}@lists.{texts.DOMAIN}"),
            ("Date", format_datetime(mail.created.astimezone(local))),
            ("Subject", _header(mail.subject)),
            ("Message-ID", mail.message_id),
        ]
        if mail.parent is not None:
            chain = []
            parent: Mail | None = mail.parent
            while parent is not None:
                chain.append(parent.message_id)
                parent = parent.parent
            headers.append(("In-Reply-To", mail.parent.message_id))
            headers.append(("References", " ".join(reversed(chain))))
        headers += [("List-Id", self.LIST_ID), ("Precedence", "list"), ("MIME-Version", "1.0")]
        if mail.body.isascii():
            headers.append(("Content-Type", 'text/plain; charset="us-ascii"'))
            headers.append(("Content-Transfer-Encoding", "7bit"))
            body = mail.body
        else:
            headers.append(("Content-Type", 'text/plain; charset="utf-8"'))
            headers.append(("Content-Transfer-Encoding", "quoted-printable"))
            body = _UTF8_QP.body_encode(mail.body) or ""
        envelope = mail.created.astimezone(UTC).strftime("%a %b %d %H:%M:%S %Y")
        lines = [f"From {author.email} {envelope}"]
        lines += [f"{name}: {value}" for name, value in headers]
        return ("\n".join(lines) + "\n\n" + body.rstrip("\n") + "\n").encode("ascii")


_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP
_UTF8_QP.header_encoding = QP


def _header(value: str) -> str:
    """A header value, RFC 2047-encoded when it is not plain ASCII."""
    return value if value.isascii() else Header(value, "utf-8").encode()
