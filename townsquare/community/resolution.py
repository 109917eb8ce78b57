"""Identity resolution: which members may be one person, how sure we are, and why.

Candidates are found by *blocking*: every identity yields a few keys (its email, its handle,
its normalised name, a coarse fuzzy key of the name), and only members sharing a key are
compared. Nothing is ever compared with every other member, so a community of 100,000 members
resolves in seconds. A key shared by too many members (a role address, "John Smith") says
nothing about any pair of them and is skipped.

Confidence is a number from 0 to 1, combined from independent pieces of evidence as
1 - (1 - c1)(1 - c2)...; each piece counts once, at its strongest:

| evidence                                        | confidence |
|-------------------------------------------------|------------|
| same email, both accounts on VERIFIED_EMAIL_PLATFORMS | 1.0, *certain*: merged automatically |
| same email, either address unverified (mbox From, CSV) | 0.9 |
| same handle on two sources                     | 0.7        |
| same display name (normalised, transliterated, two words or more) | 0.6 |
| handle matches display name ("josenunez" ~ "José Núñez") | 0.5 |
| similar display name (similarity 0.85 to 1)     | 0.4 to 0.55 |
| same one-word display name (six letters or more) | 0.4      |

A suggestion that is not certain is capped at 0.99: only a verified email is proof.
Names are compared after Unicode NFKC normalisation, transliteration to ASCII (anyascii:
"Иван Петров" -> "ivan petrov"; kana in Hepburn romaji with jaconv: "きょうこ" -> "kyouko") and
case folding, with word order ignored ("Núñez José" ~ "jose nunez"). Chinese characters get
their Mandarin reading from anyascii; a name written with them is also compared by its Japanese
reading (janome's dictionary: "佐藤健" -> "satou ken"), and a Japanese name also without its
long vowels, as passports and most romaji write it ("satou ken" -> "sato ken").
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cache
from typing import Any

import jaconv
from anyascii import anyascii
from django.db import transaction
from django.db.models import Q, QuerySet

from townsquare.community.models import (
    Identity,
    Member,
    MergeStatus,
    MergeSuggestion,
    Platform,
    Source,
)

# Platforms whose exports carry an email the platform itself has verified: a Slack profile's
# email is the address the account signed in with (Slack confirms it), and GitHub shows only
# verified addresses. An mbox From, a CSV column or a Discord export can say anything, so an
# email from them is evidence for a suggestion, never a reason to merge on its own.
VERIFIED_EMAIL_PLATFORMS: frozenset[str] = frozenset({Platform.SLACK.value, Platform.GITHUB.value})
# An mbox "handle" is the local part of an address ("info", "john"): not a chosen handle.
NO_HANDLE_PLATFORMS: frozenset[str] = frozenset({Platform.MBOX.value})

SAME_VERIFIED_EMAIL = 1.0
SAME_EMAIL = 0.9
SAME_HANDLE = 0.7
SAME_NAME = 0.6
HANDLE_IS_NAME = 0.5
SIMILAR_NAME_LOW = 0.4
SIMILAR_NAME_HIGH = 0.55
SAME_SHORT_NAME = 0.4
# Below this similarity two names are different names.
SIMILAR_NAME_RATIO = 0.85
MAX_UNCERTAIN = 0.99
# A key shared by more members than this is too common to be evidence for any pair of them.
MAX_BLOCK = 12
MIN_HANDLE = 3
MIN_NAME_LETTERS = 4
MIN_ONE_WORD_NAME = 6
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ff]+")
# CJK unified ideographs (and extension A): kanji, hanzi, hanja.
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Hepburn's long vowels as kana spell them: "ou", "uu" ("satou", "yuuichi").
_LONG_VOWELS = re.compile(r"ou|uu")


def _romaji(match: re.Match[str]) -> str:
    return str(jaconv.kana2alphabet(jaconv.kata2hira(match.group())))


def normalise(text: str) -> str:
    """Lower-case ASCII words of a name: NFKC, accents stripped, transliterated, case-folded."""
    text = unicodedata.normalize("NFKC", text)
    # Kana first, in Hepburn: anyascii spells "きょう" "kiyou".
    text = _KANA.sub(_romaji, text)
    # anyascii strips accents itself ("Núñez" -> "Nunez") and leaves only ASCII.
    text = anyascii(text).lower()
    return " ".join(_NOT_ALNUM.sub(" ", text).split())


@cache
def _japanese_tokenizer() -> Any:
    # Loaded on the first name written in kanji (a third of a second, the dictionary's).
    from janome.tokenizer import Tokenizer

    return Tokenizer()


def japanese_readings(name: str) -> list[str]:
    """A Japanese name in romaji, then without long vowels: "佐藤 健" -> "satou ken",
    "sato ken"; "さとう けん" -> "satou ken", "sato ken". None for a name without kanji or
    kana; a kanji the dictionary does not know keeps its Mandarin reading (anyascii's)."""
    if _KANJI.search(name):
        words = []
        for token in _japanese_tokenizer().tokenize(unicodedata.normalize("NFKC", name)):
            known = token.reading and token.reading != "*"
            words.append(token.reading if known else token.surface)
        spelled = normalise(" ".join(words))
    elif _KANA.search(name):
        spelled = normalise(name)
    else:
        return []
    short = _LONG_VOWELS.sub(lambda m: m.group()[0], spelled)
    return [spelled] if short == spelled else [spelled, short]


def normalise_handle(handle: str) -> str:
    return normalise(handle.strip().lstrip("@")).replace(" ", "")


def normalise_email(email: str) -> str:
    email = email.strip().casefold()
    return email if "@" in email else ""


def name_tokens(name: str) -> list[str]:
    return sorted(normalise(name).split())


def _with_readings(*names: str) -> set[str]:
    """The names, and the Japanese readings of those written in kanji or kana."""
    found = set(names)
    for name in names:
        found.update(japanese_readings(name))
    return found


@dataclass
class Evidence:
    """What two members share, each kind at its strongest."""

    certain: bool = False
    pieces: dict[str, tuple[float, str]] = field(default_factory=dict)

    def add(self, kind: str, confidence: float, words: str) -> None:
        if kind not in self.pieces or self.pieces[kind][0] < confidence:
            self.pieces[kind] = (confidence, words)

    @property
    def confidence(self) -> float:
        if self.certain:
            return SAME_VERIFIED_EMAIL
        remaining = 1.0
        for c, _ in self.pieces.values():
            remaining *= 1 - c
        return round(min(1 - remaining, MAX_UNCERTAIN), 3)

    @property
    def words(self) -> list[str]:
        ordered = sorted(self.pieces.values(), key=lambda p: -p[0])
        return [w for _, w in ordered]


@dataclass(frozen=True, slots=True)
class _Account:
    member_id: int
    source_id: int
    platform: str


@dataclass
class Resolution:
    """The outcome of one pass: suggestions written, and the pairs certain enough to merge."""

    suggestions: int = 0
    created: int = 0
    certain_pairs: list[tuple[int, int]] = field(default_factory=list)
    merged: int = 0
    members: int = 0


_PLATFORM_LABELS = {str(value): label for value, label in Platform.choices}


def _platform_label(platform: str) -> str:
    return _PLATFORM_LABELS.get(platform, platform)


def find_candidates(source: Source | None = None) -> dict[tuple[int, int], Evidence]:
    """Pairs of active members (smaller id first) that may be one person, with their evidence.
    With a source, only pairs where one member has an identity on it."""
    active = Q(member__merged_into__isnull=True, member__erased_at__isnull=True)
    rows = (
        Identity.objects.filter(active, is_bot=False, member__is_bot=False)
        .order_by()
        .values_list(
            "member_id",
            "source_id",
            "source__platform",
            "handle",
            "display_name",
            "email",
            "is_placeholder",
            "member__display_name",
        )
    )
    emails: dict[str, list[tuple[_Account, bool]]] = defaultdict(list)
    handles: dict[str, list[_Account]] = defaultdict(list)
    names: dict[str, dict[int, str]] = defaultdict(dict)  # key -> member -> normalised name
    compact: dict[str, set[int]] = defaultdict(set)
    handle_compact: dict[str, set[int]] = defaultdict(set)
    cjk_compact: dict[str, set[int]] = defaultdict(set)
    spelled: dict[str, set[int]] = defaultdict(set)  # a name's letters in its words' order
    in_scope: set[int] = set()
    for member_id, source_id, platform, handle, display, email, placeholder, member_name in rows:
        account = _Account(member_id, source_id, platform)
        if source is not None and source_id == source.id:
            in_scope.add(member_id)
        if placeholder:
            continue  # its only "name" is the platform's id for it
        if key := normalise_email(email):
            emails[key].append((account, platform in VERIFIED_EMAIL_PLATFORMS))
        h = normalise_handle(handle)
        if len(h) >= MIN_HANDLE and platform not in NO_HANDLE_PLATFORMS:
            handles[h].append(account)
            handle_compact[h].add(member_id)
        for name in _with_readings(display, member_name):
            tokens = name_tokens(name)
            letters = "".join(tokens)
            if len(letters) < MIN_NAME_LETTERS:
                continue
            if _KANJI.search(name):
                cjk_compact[letters].add(member_id)
            elif len(tokens) >= 2:
                # Family name first or last, as the person wrote it, in either order.
                in_order = normalise(name).split()
                spelled["".join(in_order)].add(member_id)
                spelled["".join(reversed(in_order))].add(member_id)
            normal = " ".join(tokens)
            if len(tokens) >= 2:
                names["n:" + normal][member_id] = normal
                names["f:" + "|".join(t[:2] for t in tokens)][member_id] = normal
                compact[letters].add(member_id)
            elif len(letters) >= MIN_ONE_WORD_NAME:
                names["n:" + normal][member_id] = normal

    found: dict[tuple[int, int], Evidence] = defaultdict(Evidence)

    def wanted(a: int, b: int) -> bool:
        return a != b and (source is None or a in in_scope or b in in_scope)

    def pair(a: int, b: int) -> tuple[int, int]:
        return (a, b) if a < b else (b, a)

    for accounts in emails.values():
        if len({a.member_id for a, _ in accounts}) > MAX_BLOCK:
            continue  # a shared role address, not a person
        for i, (a, a_verified) in enumerate(accounts):
            for b, b_verified in accounts[i + 1 :]:
                if not wanted(a.member_id, b.member_id):
                    continue
                evidence = found[pair(a.member_id, b.member_id)]
                if a_verified and b_verified:
                    evidence.certain = True
                    evidence.add("email", SAME_VERIFIED_EMAIL, "same verified email")
                else:
                    evidence.add("email", SAME_EMAIL, "same email")

    for handle_accounts in handles.values():
        if len({a.member_id for a in handle_accounts}) > MAX_BLOCK:
            continue
        for i, a in enumerate(handle_accounts):
            for b in handle_accounts[i + 1 :]:
                if a.source_id == b.source_id or not wanted(a.member_id, b.member_id):
                    continue
                labels = sorted({_platform_label(a.platform), _platform_label(b.platform)})
                words = (
                    f"same handle on {labels[0]} and {labels[1]}"
                    if len(labels) == 2
                    else f"same handle on two {labels[0]} sources"
                )
                found[pair(a.member_id, b.member_id)].add("handle", SAME_HANDLE, words)

    for key, by_member in names.items():
        if len(by_member) > MAX_BLOCK:
            continue
        members = sorted(by_member.items())
        exact = key.startswith("n:")
        for i, (m_a, a_name) in enumerate(members):
            for m_b, b_name in members[i + 1 :]:
                if not wanted(m_a, m_b):
                    continue
                evidence = found[pair(m_a, m_b)]
                if exact:
                    c = SAME_NAME if " " in a_name else SAME_SHORT_NAME
                    evidence.add("name", c, "same display name")
                    continue
                ratio = SequenceMatcher(None, a_name, b_name).ratio()
                if ratio >= SIMILAR_NAME_RATIO:
                    span = SIMILAR_NAME_HIGH - SIMILAR_NAME_LOW
                    c = SIMILAR_NAME_LOW + span * (ratio - SIMILAR_NAME_RATIO) / (
                        1 - SIMILAR_NAME_RATIO
                    )
                    evidence.add("name", round(c, 3), "similar display name")

    # A name in Chinese characters reads as one run of syllables ("张伟明" -> "zhangweiming"):
    # it is the same name as any two-word name with the same letters ("Zhang Weiming").
    for key, cjk_members in cjk_compact.items():
        same_letters = spelled.get(key, set()) | cjk_members
        if len(same_letters) > MAX_BLOCK:
            continue
        for m_a in cjk_members:
            for m_b in same_letters:
                if wanted(m_a, m_b):
                    found[pair(m_a, m_b)].add("name", SAME_NAME, "same display name")

    for key, handle_members in handle_compact.items():
        named = compact.get(key)
        if not named or len(named) + len(handle_members) > MAX_BLOCK:
            continue
        for m_a in handle_members:
            for m_b in named:
                if wanted(m_a, m_b):
                    found[pair(m_a, m_b)].add("handle_name", HANDLE_IS_NAME, "handle matches name")

    return {p: e for p, e in found.items() if e.pieces}


def _root(member_id: int, merged_into: dict[int, int]) -> int:
    seen = set()
    while member_id in merged_into and member_id not in seen:
        seen.add(member_id)
        member_id = merged_into[member_id]
    return member_id


def decided_pairs() -> set[tuple[int, int]]:
    """Pairs of active members that staff already decided are different people: a rejected
    suggestion or an unmerge, carried over to whichever members absorbed either side since."""
    rows = list(
        MergeSuggestion.objects.filter(status=MergeStatus.REJECTED).values_list(
            "member_a_id", "member_b_id"
        )
    )
    if not rows:
        return set()
    merged_into = dict(
        Member.objects.filter(merged_into__isnull=False).values_list("id", "merged_into_id")
    )
    decided = set()
    for a, b in rows:
        ra, rb = _root(a, merged_into), _root(b, merged_into)
        decided.add((min(ra, rb), max(ra, rb)))
    return decided


def save_suggestions(
    found: dict[tuple[int, int], Evidence], *, prune: bool = False
) -> tuple[int, int]:
    """Write the open suggestions: new pairs created, open ones updated, decided pairs left
    alone. With `prune` (a pass over every member), open suggestions no longer found go.
    Returns (open suggestions written, created)."""
    decided = decided_pairs()
    existing = {
        (s.member_a_id, s.member_b_id): s
        for s in MergeSuggestion.objects.only(
            "id", "member_a_id", "member_b_id", "status", "confidence", "evidence"
        )
    }
    new: list[MergeSuggestion] = []
    changed: list[MergeSuggestion] = []
    for (a, b), evidence in found.items():
        if (a, b) in decided:
            continue
        current = existing.get((a, b))
        if current is None:
            new.append(
                MergeSuggestion(
                    member_a_id=a,
                    member_b_id=b,
                    confidence=evidence.confidence,
                    evidence=evidence.words,
                )
            )
        elif current.status == MergeStatus.OPEN and (
            current.confidence != evidence.confidence or current.evidence != evidence.words
        ):
            current.confidence = evidence.confidence
            current.evidence = evidence.words
            changed.append(current)
    stale = [
        s.id
        for pair, s in existing.items()
        if prune and s.status == MergeStatus.OPEN and pair not in found
    ]
    with transaction.atomic():
        MergeSuggestion.objects.bulk_create(new, batch_size=1000)
        MergeSuggestion.objects.bulk_update(changed, ["confidence", "evidence"], batch_size=1000)
        for start in range(0, len(stale), 1000):
            MergeSuggestion.objects.filter(id__in=stale[start : start + 1000]).delete()
    written = sum(1 for p in found if p not in decided)
    return written, len(new)


def certain_groups(
    found: dict[tuple[int, int], Evidence], decided: set[tuple[int, int]]
) -> list[list[int]]:
    """Members that a verified email proves to be one person, grouped; a group never joins
    two members that staff said are different people."""
    groups: dict[int, set[int]] = {}
    for (a, b), evidence in sorted(found.items()):
        if not evidence.certain or (a, b) in decided:
            continue
        ga, gb = groups.get(a, {a}), groups.get(b, {b})
        if ga is gb:
            continue
        if any((min(x, y), max(x, y)) in decided for x in ga for y in gb):
            continue
        union = ga | gb
        for m in union:
            groups[m] = union
    unique = {id(g): g for g in groups.values()}
    return [sorted(g) for g in unique.values()]


def resolve(*, source: Source | None = None, auto: bool = False) -> Resolution:
    """Find suggestions (for one source's members, or everyone), and with `auto` merge the
    members a verified email proves to be one person."""
    from townsquare.community.services import do_merge_members

    result = Resolution()
    found = find_candidates(source)
    if auto:
        decided = decided_pairs()
        groups = certain_groups(found, decided)
        members = Member.objects.in_bulk([m for g in groups for m in g])
        for group in groups:
            people = sorted((members[m] for m in group), key=lambda m: (-m.interaction_count, m.id))
            do_merge_members(
                target=people[0],
                others=people[1:],
                actor=None,
                reason="same verified email",
                automatic=True,
            )
            result.merged += len(people) - 1
        if groups:  # merged members are gone: find again against who is left
            found = find_candidates(source)
    result.certain_pairs = sorted(p for p, e in found.items() if e.certain)
    result.suggestions, result.created = save_suggestions(found, prune=source is None)
    result.members = len({m for p in found for m in p})
    return result


def target_of(a: Member, b: Member) -> tuple[Member, Member]:
    """(target, other) of merging two members: the more active one absorbs the other."""
    first, second = sorted((a, b), key=lambda m: (-m.interaction_count, m.id))
    return first, second


def open_suggestions() -> QuerySet[MergeSuggestion]:
    """Open suggestions between active people, most certain first."""
    return (
        MergeSuggestion.objects.filter(
            status=MergeStatus.OPEN,
            member_a__merged_into__isnull=True,
            member_b__merged_into__isnull=True,
            member_a__is_bot=False,
            member_b__is_bot=False,
            member_a__erased_at__isnull=True,
            member_b__erased_at__isnull=True,
        )
        .select_related("member_a", "member_b")
        .order_by("-confidence", "id")
    )


def maybe_also(member_ids: Iterable[int]) -> dict[int, list[tuple[MergeSuggestion, Member]]]:
    """For each of these members, the open suggestions that they may also be someone else,
    with that other member, most certain first (one query): before reaching out to one half
    of a person, a manager wants to see the other."""
    ids = set(member_ids)
    found: dict[int, list[tuple[MergeSuggestion, Member]]] = {}
    if not ids:
        return found
    for s in open_suggestions().filter(Q(member_a_id__in=ids) | Q(member_b_id__in=ids)):
        for one, other in ((s.member_a, s.member_b), (s.member_b, s.member_a)):
            if one.pk in ids:
                found.setdefault(one.pk, []).append((s, other))
    return found
