"""Flagging messages for moderation, moderators' decisions, and the watched words.

`flag_interactions` runs at the end of every enrichment batch (listening.pipeline) and after a
watched word is added: it is idempotent, and re-opens a decided item only when the message's
text changed since the decision.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, Value
from django.utils import timezone

from townsquare.community.models import Interaction
from townsquare.lib.sql import LOOKUP_CHUNK
from townsquare.listening.models import CorrectableField
from townsquare.listening.pipeline import (
    TEXT_KINDS,
    find_terms,
    mentions,
    normalize_term,
    prepared_text,
    refresh_rollups,
    term_index,
)
from townsquare.listening.services import do_correct_label
from townsquare.moderation.models import (
    MessageTag,
    ModerationAction,
    ModerationActionKind,
    ModerationItem,
    ModerationStatus,
    ReasonKind,
    WatchedWord,
    WatchedWordAction,
)
from townsquare.staff.models import Role
from townsquare.staff.roles import has_role

# What each decision sets the item's status to.
DECISIONS = {
    ModerationActionKind.APPROVE: ModerationStatus.APPROVED,
    ModerationActionKind.HIDE: ModerationStatus.HIDDEN,
    ModerationActionKind.ESCALATE: ModerationStatus.ESCALATED,
    ModerationActionKind.FALSE_POSITIVE: ModerationStatus.FALSE_POSITIVE,
    ModerationActionKind.DEESCALATE: ModerationStatus.PENDING,
}
REASON_REQUIRED = frozenset(
    {
        ModerationActionKind.HIDE,
        ModerationActionKind.ESCALATE,
        ModerationActionKind.FALSE_POSITIVE,
        ModerationActionKind.DEESCALATE,
    }
)
MODERATORS_ONLY = "Only moderators, managers and admins can act on flagged messages."
ADMINS_ONLY = "Escalated to admins: only an admin can decide it or send it back to the queue."
# A false positive on these reasons corrects this label of the message.
CORRECTED_LABELS = {
    ReasonKind.TOXICITY: CorrectableField.IS_TOXIC,
    ReasonKind.SPAM: CorrectableField.IS_SPAM,
}
MAX_TAG_LENGTH = 64
REOPEN_REASON = "The message was edited after the decision."


def text_digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


# Flagging ------------------------------------------------------------------------------------


@dataclass
class _Words:
    """The active watched words, indexed for `find_terms`."""

    by_id: dict[int, WatchedWord]
    flagging: dict[str, list[int]]  # flag and review words
    tagging: dict[str, list[int]]

    @classmethod
    def active(cls) -> _Words:
        words = {w.pk: w for w in WatchedWord.objects.filter(is_active=True)}
        tagging = [(w.pk, w.term) for w in words.values() if w.action == WatchedWordAction.TAG]
        flagging = [(w.pk, w.term) for w in words.values() if w.action != WatchedWordAction.TAG]
        return cls(words, term_index(flagging), term_index(tagging))


@dataclass
class _Flagged:
    reasons: list[dict[str, Any]]
    requires_review: bool
    text_hash: str

    @property
    def kinds(self) -> str:
        return " ".join(sorted({r["kind"] for r in self.reasons}))


def _reasons(
    text: str, toxic: bool, toxicity: float, spam: bool, spam_score: float, words: _Words
) -> tuple[list[dict[str, Any]], bool]:
    """Why a message is flagged, in a stable order, and whether a watched word asks for review."""
    reasons: list[dict[str, Any]] = []
    if toxic:
        reasons.append({"kind": ReasonKind.TOXICITY.value, "detail": "toxic", "score": toxicity})
    if spam:
        reasons.append({"kind": ReasonKind.SPAM.value, "detail": "spam", "score": spam_score})
    review = False
    found = [words.by_id[i] for i in find_terms(text, words.flagging)] if text else []
    for word in sorted(found, key=lambda w: w.term.casefold()):
        reasons.append({"kind": ReasonKind.WATCHED_WORD.value, "detail": word.term, "score": None})
        review = review or word.action == WatchedWordAction.REVIEW
    return reasons, review


def flag_interactions(
    ids: Sequence[int],
    prepared: Mapping[int, str] | None = None,
    labels: Mapping[int, Labels] | None = None,
) -> int:
    """Put the messages among `ids` that are toxic, spam, or say an active watched word in the
    moderation queue, and tag those that say a tagging word. Idempotent: a re-run changes
    nothing; an item already decided is re-opened only if the message's text changed since.
    A few queries for the whole batch, whatever its size. Returns how many items were created
    or re-opened.

    The enrichment pipeline, which has just written them, hands over what it knows: `prepared`,
    the texts as it prepared them (`prepared_text`), and `labels`, each text message's
    (is_toxic, toxicity, is_spam, spam) as written: then nothing is read back but the raw text
    of the messages it flags."""
    if not ids:
        return 0
    words = _Words.active()
    flagged: dict[int, _Flagged] = {}
    tags: list[MessageTag] = []
    reads_text = bool(words.flagging or words.tagging)
    reads_raw = prepared is None
    for pk, text, platform, toxic, toxicity, spam, spam_score in _flag_inputs(
        ids, reads_text, reads_raw, labels if prepared is not None else None
    ):
        said = ""
        if reads_text:
            said = prepared_text(text, platform) if prepared is None else prepared.get(pk, "")
        reasons, review = _reasons(
            said, bool(toxic), toxicity or 0.0, bool(spam), spam_score or 0.0, words
        )
        if reasons:
            flagged[pk] = _Flagged(reasons, review, text_digest(text) if reads_raw else "")
        for word_id in sorted(find_terms(said, words.tagging)) if said else ():
            tags.append(MessageTag(word_id=word_id, interaction_id=pk))
    if not reads_raw and flagged:
        for start in range(0, len(flagged), LOOKUP_CHUNK):
            chunk = list(flagged)[start : start + LOOKUP_CHUNK]
            for pk, text in Interaction.objects.filter(id__in=chunk).values_list("id", "text"):
                flagged[pk].text_hash = text_digest(text)
    if not flagged and not words.tagging:
        return 0  # the usual batch: nothing to write
    with transaction.atomic():
        if words.tagging:
            _replace_tags(ids, tags, words)
        return _write_items(flagged)


# (is_toxic, toxicity, is_spam, spam) of a message, as its Enrichment row holds them.
Labels = tuple[bool, float | None, bool, float | None]


def _flag_inputs(
    ids: Sequence[int], reads_text: bool, reads_raw: bool, labels: Mapping[int, Labels] | None
) -> Iterator[tuple[int, str, str, bool, float | None, bool, float | None]]:
    """(id, raw text or "", platform or "", is_toxic, toxicity, is_spam, spam) of the text
    messages among `ids` that may be flagged: from `labels` when given, else read."""
    if labels is not None:
        wanted = set(ids)
        for pk, (toxic, toxicity, spam, spam_score) in labels.items():
            if pk in wanted and (reads_text or toxic or spam):
                yield pk, "", "", toxic, toxicity, spam, spam_score
        return
    for start in range(0, len(ids), LOOKUP_CHUNK):
        rows = Interaction.objects.filter(id__in=ids[start : start + LOOKUP_CHUNK])
        rows = rows.filter(kind__in=TEXT_KINDS)
        if not reads_text:
            # Without watched words, only what the analyzers flagged can be flagged.
            rows = rows.filter(Q(enrichment__is_toxic=True) | Q(enrichment__is_spam=True))
        yield from rows.values_list(
            "id",
            # The text only to prepare it here; otherwise read for the flagged alone.
            "text" if reads_raw else Value(""),
            "source__platform",
            "enrichment__is_toxic",
            "enrichment__toxicity",
            "enrichment__is_spam",
            "enrichment__spam",
        )


def _replace_tags(ids: Sequence[int], tags: list[MessageTag], words: _Words) -> None:
    # Only the active words' tags are redone (an edit can remove one): a paused word keeps its.
    active = [word_id for word_ids in words.tagging.values() for word_id in word_ids]
    present = MessageTag.objects.filter(interaction_id__in=ids, word_id__in=active)
    had = {(w, i): pk for pk, w, i in present.values_list("id", "word_id", "interaction_id")}
    wanted = {(t.word_id, t.interaction_id) for t in tags}
    gone = [pk for key, pk in had.items() if key not in wanted]
    if gone:
        MessageTag.objects.filter(id__in=gone).delete()
    MessageTag.objects.bulk_create(
        [t for t in tags if (t.word_id, t.interaction_id) not in had], ignore_conflicts=True
    )


def _write_items(flagged: dict[int, _Flagged]) -> int:
    if not flagged:
        return 0
    existing = {
        item.interaction_id: item
        for item in ModerationItem.objects.filter(interaction_id__in=list(flagged))
    }
    now = timezone.now()
    new: list[ModerationItem] = []
    changed: list[ModerationItem] = []
    reopened: list[ModerationAction] = []
    for interaction_id, found in flagged.items():
        item = existing.get(interaction_id)
        if item is None:
            new.append(
                ModerationItem(
                    interaction_id=interaction_id,
                    reasons=found.reasons,
                    kinds=found.kinds,
                    requires_review=found.requires_review,
                    text_hash=found.text_hash,
                    created_at=now,
                )
            )
            continue
        if item.status != ModerationStatus.PENDING:
            if item.text_hash == found.text_hash:
                continue  # decided, and the message is as it was: the decision stands
            reopened.append(
                ModerationAction(
                    item=item,
                    actor=None,
                    action=ModerationActionKind.REOPEN,
                    reason=REOPEN_REASON,
                    status_before=item.status,
                    status_after=ModerationStatus.PENDING,
                    at=now,
                )
            )
            item.status = ModerationStatus.PENDING
            item.decided_by = None
            item.decided_at = None
        elif (item.reasons, item.requires_review, item.text_hash) == (
            found.reasons,
            found.requires_review,
            found.text_hash,
        ):
            continue
        item.reasons = found.reasons
        item.kinds = found.kinds
        item.requires_review = found.requires_review
        item.text_hash = found.text_hash
        changed.append(item)
    # ignore_conflicts: a watched-word scan and an enrichment batch may flag the same message.
    ModerationItem.objects.bulk_create(new, ignore_conflicts=True)
    if changed:
        ModerationItem.objects.bulk_update(
            changed,
            [
                "status",
                "reasons",
                "kinds",
                "requires_review",
                "text_hash",
                "decided_by",
                "decided_at",
            ],
        )
    ModerationAction.objects.bulk_create(reopened)
    return len(new) + len(reopened)


# Decisions -----------------------------------------------------------------------------------


class EscalatedToAdmins(PermissionDenied):
    """A moderator or manager tried to decide a message escalated to the admins."""


def may_decide(user: User, item: ModerationItem) -> bool:
    """Whether the user may decide this item: moderators and above, but only admins once it
    is escalated to them."""
    if item.status == ModerationStatus.ESCALATED:
        return has_role(user, Role.ADMIN)
    return has_role(user, Role.MODERATOR)


def do_moderate(
    *, item: ModerationItem, actor: User, action: str, reason: str = ""
) -> ModerationAction:
    """A moderator's decision on a flagged message: approve, hide, escalate or false positive,
    written to the audit log. A false positive also corrects the labels that flagged the
    message, so re-enrichment keeps them and they are exported as training data.

    Escalating hands the message to the admins (each is emailed once the decision is
    committed); from then on only an admin decides it, or sends it back to the queue
    (de-escalate). Raises EscalatedToAdmins when anyone else tries."""
    try:
        kind = ModerationActionKind(action)
        status = DECISIONS[kind]
    except (ValueError, KeyError):
        choices = ", ".join(a.value for a in DECISIONS)
        raise ValueError(f"unknown action {action!r}; expected one of: {choices}") from None
    reason = reason.strip()
    if kind in REASON_REQUIRED and not reason:
        raise ValueError(f"Say why: a reason is required to {kind.label.lower()}.")
    with transaction.atomic():
        # Locked and read again: two moderators acting at once each log what they changed.
        current = ModerationItem.objects.select_for_update().get(pk=item.pk)
        if not has_role(actor, Role.MODERATOR):
            raise PermissionDenied(MODERATORS_ONLY)
        if not may_decide(actor, current):
            raise EscalatedToAdmins(ADMINS_ONLY)
        if kind == ModerationActionKind.DEESCALATE:
            if current.status != ModerationStatus.ESCALATED:
                raise ValueError("Only a message escalated to admins can be sent back.")
        elif current.status == status:
            raise ValueError(f"This message is already {status.label.lower()}.")
        before, hidden_before = current.status, current.is_hidden
        if kind == ModerationActionKind.FALSE_POSITIVE:
            _correct_labels(current, actor, reason)
        now = timezone.now()
        current.status = status
        if kind == ModerationActionKind.DEESCALATE:
            # Pending again, as if never decided: the audit log keeps who sent it back.
            current.decided_by, current.decided_at = None, None
        else:
            current.decided_by, current.decided_at = actor, now
        if kind == ModerationActionKind.HIDE:
            current.is_hidden = True
        elif kind in (ModerationActionKind.APPROVE, ModerationActionKind.FALSE_POSITIVE):
            current.is_hidden = False
        current.save(update_fields=["status", "decided_by", "decided_at", "is_hidden"])
        if current.is_hidden != hidden_before:
            # Topics leave hidden messages out (listening/pulse.py): recount its day's.
            refresh_rollups([current.interaction.created_at])
        entry = ModerationAction.objects.create(
            item=current,
            actor=actor,
            action=kind,
            reason=reason,
            status_before=before,
            status_after=status,
            at=now,
        )
        if kind == ModerationActionKind.ESCALATE:
            queue_escalation_email(entry)
    for name in ("status", "decided_by", "decided_at", "is_hidden"):
        setattr(item, name, getattr(current, name))
    return entry


def queue_escalation_email(entry: ModerationAction) -> None:
    """Email the admins about an escalation once it is committed (a rolled-back one never
    reaches them), from the background worker: a slow mail server never slows the page."""
    from townsquare.moderation.tasks import email_escalation_task

    entry_id = entry.pk
    transaction.on_commit(lambda: email_escalation_task.enqueue(entry_id))


def _correct_labels(item: ModerationItem, actor: User, reason: str) -> None:
    kinds = {r.get("kind") for r in item.reasons}
    for kind, field in CORRECTED_LABELS.items():
        if kind in kinds:
            do_correct_label(
                interaction=item.interaction,
                field=field,
                value=False,
                user=actor,
                note=f"Moderation: false positive. {reason}",
            )


# Watched words -------------------------------------------------------------------------------


def clean_word(term: str, action: str, tag: str) -> tuple[str, str]:
    """The term and tag as stored, or ValueError saying what is wrong."""
    if action not in WatchedWordAction.values:
        raise ValueError(f"action must be one of {', '.join(WatchedWordAction.values)}")
    term = normalize_term(term, "keyword")
    if not any(c.isalnum() for c in term):
        raise ValueError("A watched word needs at least one letter or digit.")
    tag = " ".join(tag.split())
    if action == WatchedWordAction.TAG:
        if not tag:
            raise ValueError("Name the tag that messages with this word get.")
        if len(tag) > MAX_TAG_LENGTH:
            raise ValueError(f"A tag has at most {MAX_TAG_LENGTH} characters.")
    else:
        tag = ""
    return term, tag


def do_watch_word(*, term: str, action: str, tag: str = "", user: User | None) -> WatchedWord:
    """Watch for a word (or change what an existing one does, and resume it); the messages
    already there are searched in the background."""
    term, tag = clean_word(term, action, tag)
    word = WatchedWord.objects.filter(term__iexact=term).first()
    if word is None:
        word = WatchedWord.objects.create(term=term, action=action, tag=tag, created_by=user)
    else:
        word.action, word.tag, word.is_active = action, tag, True
        word.save(update_fields=["action", "tag", "is_active"])
    queue_word_scan(word)
    return word


def do_pause_word(*, word: WatchedWord, active: bool) -> None:
    """Pause a watched word (what it flagged and tagged stays) or resume it (the messages it
    missed meanwhile are searched)."""
    WatchedWord.objects.filter(pk=word.pk).update(is_active=active)
    word.is_active = active
    if active:
        queue_word_scan(word)


def queue_word_scan(word: WatchedWord) -> None:
    """Search the existing messages for the word once it is committed."""
    from townsquare.moderation.tasks import scan_word_task

    word_id = word.pk
    transaction.on_commit(lambda: scan_word_task.enqueue(word_id))


def scan_word(word: WatchedWord) -> int:
    """Flag (or tag) the messages already there that say the word; returns how many say it."""
    found = 0
    for ids in mentions(word.term):
        flag_interactions(ids)
        found += len(ids)
    return found
