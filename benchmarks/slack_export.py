"""A synthetic Slack workspace export, in the official layout, written as it is generated."""

from __future__ import annotations

import json
import random
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

SEED = 20240601
TEAM = "T0BENCH01"
START = datetime(2023, 1, 1, tzinfo=UTC)
DAYS = 730
CHANNELS = 40
MAX_USERS = 5000

# Shares of all messages, close to what busy community workspaces show.
JOIN_SHARE = 0.03
BOT_SHARE = 0.005
REPLY_SHARE = 0.10
THREAD_PARENT_SHARE = 0.04
REACTION_SHARE = 0.05
EDITED_SHARE = 0.03

_WORD_TEXT = (
    "the a to and of is in it you that for on with this be are have not we can at but if "
    "data release build deploy docs issue bug fix test merge branch review meetup talk slides "
    "python sqlite postgres query index schema migration import export channel thread reply "
    "thanks hello welcome question answer help idea plan roadmap community event video link "
    "café naïve déjà über señor 🎉 🚀 👍 ✅ 日本語 données résumé"
)
WORDS = tuple(_WORD_TEXT.split())
EMOJI = (
    "thumbsup",
    "+1",
    "tada",
    "eyes",
    "heart",
    "joy",
    "rocket",
    "white_check_mark",
    "pray",
    "100",
    "fire",
    "raised_hands",
)
BOTS = (("B0BENCH01", "deploy-bot"), ("B0BENCH02", "github"), ("B0BENCH03", "standup"))


@dataclass
class ExportSummary:
    """What was generated, counted as it was written (the importer's figures are read back from
    the database, not from here)."""

    messages: int = 0
    users: int = 0
    channels: int = 0
    day_files: int = 0
    replies: int = 0
    joins: int = 0
    bot_messages: int = 0
    with_reactions: int = 0
    reaction_users: int = 0
    edited: int = 0
    bytes: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _User:
    id: str
    handle: str
    real_name: str
    display_name: str
    avatar_hash: str


def user_count(messages: int) -> int:
    """About 5,000 users for a million messages; fewer for a smoke run, so it stays quick."""
    return min(MAX_USERS, max(100, messages // 200))


def generate(out: Path, messages: int, *, seed: int = SEED) -> ExportSummary:
    """Write an export of `messages` messages into `out` (created), deterministic for a seed."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    summary = ExportSummary(messages=messages)

    users = [_make_user(rng, n) for n in range(user_count(messages))]
    summary.users = len(users)
    summary.bytes += _write_json_array(out / "users.json", (_user_json(u) for u in users))
    # A few members say most things, as in every community.
    user_weights = _cumulative([1.0 / (rank + 1) ** 0.8 for rank in range(len(users))])

    channel_names = ["general", "random"] + [
        f"{rng.choice(WORDS[20:60])}-{n}" for n in range(2, CHANNELS)
    ]
    channels = [(f"C0BENCH{n:03d}", name) for n, name in enumerate(channel_names)]
    summary.channels = len(channels)
    summary.bytes += _write_json_array(
        out / "channels.json",
        (_channel_json(rng, cid, name, users, n == 0) for n, (cid, name) in enumerate(channels)),
    )
    channel_weights = _cumulative([1.0 / (rank + 1) for rank in range(len(channels))])
    for _cid, name in channels:
        (out / name).mkdir(exist_ok=True)

    start_us = int(START.timestamp()) * 1_000_000
    step_us = max(1, DAYS * 86_400 * 1_000_000 // max(messages, 1))
    # Thread parents recently posted in each channel, which replies pick from.
    parents: list[deque[tuple[str, str]]] = [deque(maxlen=8) for _ in channels]
    day_buckets: dict[int, list[dict[str, Any]]] = {}
    current_day = -1

    for index in range(messages):
        ts_us = start_us + index * step_us + rng.randrange(max(1, step_us * 9 // 10))
        ts = f"{ts_us // 1_000_000}.{ts_us % 1_000_000:06d}"
        day = (ts_us - start_us) // 86_400_000_000
        if day != current_day:
            _flush_day(out, current_day, day_buckets, channels, summary)
            current_day = day
        c = rng.choices(range(len(channels)), cum_weights=channel_weights)[0]
        user = users[rng.choices(range(len(users)), cum_weights=user_weights)[0]]
        message = _message(rng, ts, ts_us, user, users, parents[c], summary)
        day_buckets.setdefault(c, []).append(message)
    _flush_day(out, current_day, day_buckets, channels, summary)
    return summary


def _message(
    rng: random.Random,
    ts: str,
    ts_us: int,
    user: _User,
    users: list[_User],
    parents: deque[tuple[str, str]],
    summary: ExportSummary,
) -> dict[str, Any]:
    roll = rng.random()
    if roll < JOIN_SHARE:
        summary.joins += 1
        return {
            "user": user.id,
            "type": "message",
            "subtype": "channel_join",
            "ts": ts,
            "text": f"<@{user.id}> has joined the channel",
        }
    if roll < JOIN_SHARE + BOT_SHARE:
        summary.bot_messages += 1
        bot_id, name = rng.choice(BOTS)
        return {
            "type": "message",
            "subtype": "bot_message",
            "text": f"{name}: {_text(rng, users)}",
            "ts": ts,
            "username": name,
            "bot_id": bot_id,
            "icons": {"emoji": ":robot_face:"},
        }

    text = _text(rng, users)
    message: dict[str, Any] = {
        "client_msg_id": _uuid(rng),
        "type": "message",
        "text": text,
        "user": user.id,
        "ts": ts,
        "team": TEAM,
        "user_team": TEAM,
        "source_team": TEAM,
        "user_profile": {
            "avatar_hash": user.avatar_hash,
            "image_72": f"https://avatars.slack-edge.com/2023-01-01/{user.avatar_hash}_72.png",
            "first_name": user.real_name.split()[0],
            "real_name": user.real_name,
            "display_name": user.display_name,
            "team": TEAM,
            "name": user.handle,
            "is_restricted": False,
            "is_ultra_restricted": False,
        },
        "blocks": [
            {
                "type": "rich_text",
                "block_id": f"{rng.getrandbits(24):06x}",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [{"type": "text", "text": text}],
                    }
                ],
            }
        ],
    }
    if parents and rng.random() < REPLY_SHARE / (1 - JOIN_SHARE - BOT_SHARE):
        parent_ts, parent_user = rng.choice(parents)
        message["thread_ts"] = parent_ts
        message["parent_user_id"] = parent_user
        summary.replies += 1
    elif rng.random() < THREAD_PARENT_SHARE:
        message["thread_ts"] = ts
        parents.append((ts, user.id))
    if rng.random() < EDITED_SHARE:
        edited_us = ts_us + rng.randrange(1, 3_600_000_000)
        message["edited"] = {
            "user": user.id,
            "ts": f"{edited_us // 1_000_000}.{edited_us % 1_000_000:06d}",
        }
        summary.edited += 1
    if rng.random() < REACTION_SHARE:
        reactions = []
        for name in rng.sample(EMOJI, rng.randint(1, 3)):
            who = sorted({u.id for u in rng.sample(users, rng.randint(1, 4))})
            reactions.append({"name": name, "users": who, "count": len(who)})
            summary.reaction_users += len(who)
        message["reactions"] = reactions
        summary.with_reactions += 1
    return message


def _text(rng: random.Random, users: list[_User]) -> str:
    words = rng.choices(WORDS, k=rng.randint(3, 40))
    if rng.random() < 0.15:
        words.insert(rng.randrange(len(words)), f"<@{rng.choice(users).id}>")
    if rng.random() < 0.05:
        words.append(f"<https://example.org/{rng.getrandbits(32):08x}>")
    return " ".join(words).capitalize()


def _flush_day(
    out: Path,
    day: int,
    buckets: dict[int, list[dict[str, Any]]],
    channels: list[tuple[str, str]],
    summary: ExportSummary,
) -> None:
    if day < 0:
        return
    name = (date(START.year, START.month, START.day) + timedelta(days=day)).isoformat()
    for c, day_messages in sorted(buckets.items()):
        # The official export writes every file pretty-printed with four spaces.
        text = json.dumps(day_messages, indent=4, ensure_ascii=False)
        path = out / channels[c][1] / f"{name}.json"
        path.write_text(text, encoding="utf-8")
        summary.bytes += len(text.encode("utf-8"))
        summary.day_files += 1
    buckets.clear()


def _write_json_array(path: Path, items: Any) -> int:
    written = 0
    with path.open("w", encoding="utf-8") as f:
        written += _put(f, "[")
        for n, item in enumerate(items):
            written += _put(f, ("\n" if n == 0 else ",\n") + json.dumps(item, indent=4))
        written += _put(f, "\n]")
    return written


def _put(f: TextIO, text: str) -> int:
    f.write(text)
    return len(text.encode("utf-8"))


def _make_user(rng: random.Random, n: int) -> _User:
    first = rng.choice(("Ada", "Grace", "Alan", "Linus", "Zoë", "Ólafur", "Mei", "Ravi", "Ana"))
    last = rng.choice(("Lovelace", "Hopper", "Turing", "Torvalds", "Ng", "Núñez", "Kim", "Okoro"))
    handle = f"{first.lower()}.{last.lower()}{n}"
    return _User(
        id=f"U0B{n:06d}",
        handle=handle,
        real_name=f"{first} {last}",
        display_name=handle if rng.random() < 0.5 else "",
        avatar_hash=f"{rng.getrandbits(48):012x}",
    )


def _user_json(user: _User) -> dict[str, Any]:
    image = f"https://avatars.slack-edge.com/2023-01-01/{user.avatar_hash}"
    return {
        "id": user.id,
        "team_id": TEAM,
        "name": user.handle,
        "deleted": False,
        "color": "9f69e7",
        "real_name": user.real_name,
        "tz": "Europe/Paris",
        "tz_label": "Central European Time",
        "tz_offset": 3600,
        "profile": {
            "title": "",
            "phone": "",
            "real_name": user.real_name,
            "real_name_normalized": user.real_name,
            "display_name": user.display_name,
            "display_name_normalized": user.display_name,
            "email": f"{user.handle}@example.org",
            "avatar_hash": user.avatar_hash,
            "image_24": f"{image}_24.png",
            "image_72": f"{image}_72.png",
            "image_192": f"{image}_192.png",
            "team": TEAM,
        },
        "is_admin": False,
        "is_owner": False,
        "is_bot": False,
        "is_app_user": False,
        "updated": 1672531200,
    }


def _channel_json(
    rng: random.Random, cid: str, name: str, users: list[_User], everyone: bool
) -> dict[str, Any]:
    members = users if everyone else rng.sample(users, min(len(users), rng.randint(20, 400)))
    return {
        "id": cid,
        "name": name,
        "created": int(START.timestamp()) - 86_400,
        "creator": users[0].id,
        "is_archived": False,
        "is_general": everyone,
        "members": [u.id for u in members],
        "topic": {"value": f"All about {name}", "creator": users[0].id, "last_set": 0},
        "purpose": {"value": f"Talk about {name}", "creator": users[0].id, "last_set": 0},
    }


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out
