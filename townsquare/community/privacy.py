"""A member's data on request: everything we hold about them as JSON, or all of it erased.

An export gathers the member and every member merged into it: their identities (with the
raw payloads), interactions (with text, raw payload, labels and corrections), thanks, notes,
touchpoints, knowledge entries, tags, merge suggestions and the audit entries naming them.

An erasure removes the personal data and keeps the counts: the member rows stay (named
"Erased member #id"), as do their interactions' kinds, times, channels and conversations
and the thanks between members, so the community's figures do not change. What goes:
names, handles, emails, profile links and raw payloads of identities; text, raw payload and
link of interactions, with everything derived from the text (labels, keywords, corrections,
term matches); the titles of the conversations they started (a title is their first line);
notes, touchpoints, knowledge entries, tags, custom fields and merge suggestions; their
names in audit reasons, import logs and rejected-record excerpts.

An identity's external id identifies the person on the platform, so it is replaced by a
random token; no hash of it is kept either (ids come from small spaces: a hash is as good as
the id). The consequence: a later import of an export that still holds the person creates
them again as a new member. Erase them from the platform and from kept exports as well.

On SQLite, secure_delete (see settings) overwrites what an erasure frees, and the erasure
ends with a checkpoint that empties the write-ahead log, whose old frames still hold the
pages as they were.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Model, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from townsquare.community.models import (
    AuditAction,
    AuditEntry,
    Conversation,
    Identity,
    Interaction,
    KnowledgeEntry,
    Member,
    MemberTag,
    MergeSuggestion,
    Note,
    Touchpoint,
)

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "townsquare-member-export"
EXPORT_VERSION = 1
REDACTED = "[erased]"
# Shorter names than this are not looked for in free text (logs, titles): "Al" would
# redact half of every log.
MIN_REDACTED_LENGTH = 3


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def person_members(member: Member) -> list[Member]:
    """The member at the root of its merges, then every member merged into it, at any depth.
    A member merged into another is the same person: a request about one is about all."""
    root = member
    seen = {root.pk}
    while root.merged_into_id is not None and root.merged_into_id not in seen:
        seen.add(root.merged_into_id)
        root = Member.objects.get(pk=root.merged_into_id)
    found = [root]
    frontier = [root.pk]
    known = {root.pk}
    while frontier:
        children = [
            m for m in Member.objects.filter(merged_into_id__in=frontier) if m.pk not in known
        ]
        found.extend(children)
        known.update(m.pk for m in children)
        frontier = [m.pk for m in children]
    return found


def _interactions(member_ids: list[int]) -> QuerySet[Interaction]:
    identities = Identity.objects.filter(member_id__in=member_ids).values("id")
    return Interaction.objects.filter(Q(member_id__in=member_ids) | Q(identity_id__in=identities))


def _audit_entries_naming(member_ids: Iterable[int]) -> list[int]:
    """Ids of the audit entries whose member ids include one of these. Read in Python: a
    JSON containment lookup does not exist on SQLite, and audit entries are few."""
    wanted = set(member_ids)
    return [
        pk
        for pk, ids in AuditEntry.objects.values_list("id", "member_ids").iterator()
        if isinstance(ids, list) and wanted.intersection(i for i in ids if isinstance(i, int))
    ]


# Export --------------------------------------------------------------------------------------


def _member_fields(m: Member) -> dict[str, Any]:
    return {
        "id": m.pk,
        "display_name": m.display_name,
        "first_seen_at": _iso(m.first_seen_at),
        "last_seen_at": _iso(m.last_seen_at),
        "interaction_count": m.interaction_count,
        "is_team": m.is_team,
        "is_bot": m.is_bot,
        "do_not_contact": m.do_not_contact,
        "custom_fields": m.custom_fields,
        "merged_into_id": m.merged_into_id,
        "merged_at": _iso(m.merged_at),
        "erased_at": _iso(m.erased_at),
        "created_at": _iso(m.created_at),
    }


def _enrichment_fields(interaction: Interaction) -> dict[str, Any] | None:
    from townsquare.listening.models import Enrichment

    try:
        e = interaction.enrichment
    except Enrichment.DoesNotExist:
        return None
    return {
        "analyzed": e.analyzed,
        "language": e.language,
        "language_confidence": e.language_confidence,
        "sentiment": e.sentiment,
        "sentiment_label": e.sentiment_label,
        "is_question": e.is_question,
        "question_score": e.question_score,
        "is_gratitude": e.is_gratitude,
        "emotion": e.emotion,
        "emotion_scores": e.emotion_scores,
        "toxicity": e.toxicity,
        "is_toxic": e.is_toxic,
        "spam": e.spam,
        "is_spam": e.is_spam,
        "keywords": e.keywords,
        "corrected": e.corrected,
        "enriched_at": _iso(e.enriched_at),
    }


def export_member(member: Member) -> dict[str, Any]:
    """Everything held about the person this member is, as JSON-ready values (times in ISO
    8601). Reads only: `do_export_member` is the audited way to hand it out."""
    from townsquare.listening.models import LabelCorrection, TermMatch, Thanks

    members = person_members(member)
    ids = [m.pk for m in members]
    interactions = (
        _interactions(ids)
        .select_related("source", "channel", "conversation", "enrichment")
        .order_by("created_at", "id")
    )
    interaction_ids = _interactions(ids).values("id")
    corrections: dict[int, list[dict[str, Any]]] = {}
    for c in (
        LabelCorrection.objects.filter(interaction_id__in=interaction_ids)
        .select_related("corrected_by")
        .order_by("created_at", "id")
    ):
        corrections.setdefault(c.interaction_id, []).append(
            {
                "field": c.field,
                "value": c.value,
                "previous": c.previous,
                "note": c.note,
                "corrected_by": _username(c.corrected_by),
                "created_at": _iso(c.created_at),
            }
        )
    terms: dict[int, list[str]] = {}
    for interaction_id, term in TermMatch.objects.filter(
        interaction_id__in=interaction_ids
    ).values_list("interaction_id", "term__term"):
        terms.setdefault(interaction_id, []).append(term)

    def interaction_fields(i: Interaction) -> dict[str, Any]:
        conversation = i.conversation
        return {
            "id": i.pk,
            "source": i.source.name,
            "platform": i.source.platform,
            "external_id": i.external_id,
            "kind": i.kind,
            "member_id": i.member_id,
            "identity_id": i.identity_id,
            "channel": (
                {"id": i.channel.pk, "name": i.channel.name, "url": i.channel.url}
                if i.channel
                else None
            ),
            "conversation": (
                {
                    "id": conversation.pk,
                    "external_id": conversation.external_id,
                    "title": conversation.title,
                    "url": conversation.url,
                    "started_at": _iso(conversation.started_at),
                }
                if conversation
                else None
            ),
            "parent_id": i.parent_id,
            "parent_external_id": i.parent_external_id,
            "text": i.text,
            "url": i.url,
            "created_at": _iso(i.created_at),
            "edited_at": _iso(i.edited_at),
            "imported_at": _iso(i.imported_at),
            "raw": i.raw,
            "enrichment": _enrichment_fields(i),
            "label_corrections": corrections.get(i.pk, []),
            "tracked_terms": sorted(terms.get(i.pk, [])),
        }

    def thanks(qs: QuerySet[Thanks], other: str) -> list[dict[str, Any]]:
        return [
            {"interaction_id": interaction_id, other: other_id, "created_at": _iso(created_at)}
            for interaction_id, other_id, created_at in qs.order_by("created_at", "id").values_list(
                "interaction_id", other, "created_at"
            )
        ]

    audit_ids = _audit_entries_naming(ids)
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": _iso(timezone.now()),
        "member": _member_fields(members[0]),
        "merged_members": [_member_fields(m) for m in members[1:]],
        "identities": [
            {
                "id": i.pk,
                "member_id": i.member_id,
                "source": i.source.name,
                "platform": i.source.platform,
                "external_id": i.external_id,
                "handle": i.handle,
                "display_name": i.display_name,
                "email": i.email,
                "profile_url": i.profile_url,
                "is_bot": i.is_bot,
                "is_placeholder": i.is_placeholder,
                "created_at": _iso(i.created_at),
                "raw": i.raw,
            }
            for i in Identity.objects.filter(member_id__in=ids)
            .select_related("source")
            .order_by("id")
        ],
        "interactions": [interaction_fields(i) for i in interactions.iterator(chunk_size=2000)],
        "thanks_given": thanks(Thanks.objects.filter(from_member_id__in=ids), "to_member_id"),
        "thanks_received": thanks(Thanks.objects.filter(to_member_id__in=ids), "from_member_id"),
        "tags": [
            {"name": t.tag.name, "added_by": _username(t.added_by), "added_at": _iso(t.added_at)}
            for t in MemberTag.objects.filter(member_id__in=ids)
            .select_related("tag", "added_by")
            .order_by("added_at", "id")
        ],
        "notes": [
            {
                "id": n.pk,
                "member_id": n.member_id,
                "author": _username(n.author),
                "text": n.text,
                "created_at": _iso(n.created_at),
                "updated_at": _iso(n.updated_at),
            }
            for n in Note.objects.filter(member_id__in=ids)
            .select_related("author")
            .order_by("created_at", "id")
        ],
        "touchpoints": [
            {
                "id": t.pk,
                "member_id": t.member_id,
                "staff": _username(t.staff),
                "happened_at": _iso(t.happened_at),
                "channel": t.channel,
                "reason": t.reason,
                "outcome": t.outcome,
                "interaction_id": t.interaction_id,
                "created_at": _iso(t.created_at),
            }
            for t in Touchpoint.objects.filter(member_id__in=ids)
            .select_related("staff")
            .order_by("happened_at", "id")
        ],
        "knowledge": [
            {
                "id": k.pk,
                "member_id": k.member_id,
                "title": k.title,
                "url": k.url,
                "note": k.note,
                "interaction_id": k.interaction_id,
                "created_by": _username(k.created_by),
                "created_at": _iso(k.created_at),
            }
            for k in KnowledgeEntry.objects.filter(member_id__in=ids)
            .select_related("created_by")
            .order_by("created_at", "id")
        ],
        "merge_suggestions": [
            {
                "id": s.pk,
                "member_a_id": s.member_a_id,
                "member_b_id": s.member_b_id,
                "confidence": s.confidence,
                "evidence": s.evidence,
                "status": s.status,
                "decided_by": _username(s.decided_by),
                "decided_at": _iso(s.decided_at),
                "created_at": _iso(s.created_at),
            }
            for s in MergeSuggestion.objects.filter(Q(member_a_id__in=ids) | Q(member_b_id__in=ids))
            .select_related("decided_by")
            .order_by("created_at", "id")
        ],
        "audit": [
            {
                "id": a.pk,
                "action": a.action,
                "member_ids": a.member_ids,
                "actor": _username(a.actor),
                "automatic": a.automatic,
                "reason": a.reason,
                "details": a.details,
                "created_at": _iso(a.created_at),
            }
            for a in AuditEntry.objects.filter(id__in=audit_ids)
            .select_related("actor")
            .order_by("created_at", "id")
        ],
    }


def do_export_member(*, member: Member, actor: User | None) -> dict[str, Any]:
    """The export of `export_member`, with an audit entry saying who took it (counts only)."""
    data = export_member(member)
    ids = [data["member"]["id"], *(m["id"] for m in data["merged_members"])]
    AuditEntry.objects.create(
        action=AuditAction.EXPORT,
        member_ids=ids,
        actor=actor if actor is not None and actor.pk else None,
        details={
            key: len(data[key])
            for key in ("identities", "interactions", "notes", "touchpoints", "knowledge")
        },
    )
    return data


# Erasure -------------------------------------------------------------------------------------


@dataclass
class Erasure:
    """What an erasure did: the members erased and how many rows of each kind it touched."""

    member_ids: list[int]
    counts: dict[str, int] = field(default_factory=dict)
    # On SQLite: whether the write-ahead log could be emptied (None elsewhere, or not yet).
    log_checkpointed: bool | None = None


class _Redactor:
    """Replaces a person's names, handles and emails in free text, whatever their case."""

    def __init__(self, strings: Iterable[str]) -> None:
        wanted = sorted(
            # A bare number (a numeric account id) would garble every count in a log.
            {
                s.strip()
                for s in strings
                if len(s.strip()) >= MIN_REDACTED_LENGTH and not s.strip().isdigit()
            },
            key=len,
            reverse=True,
        )
        self.strings = wanted
        self.pattern = (
            re.compile("|".join(re.escape(s) for s in wanted), re.IGNORECASE) if wanted else None
        )

    def __call__(self, text: str) -> str:
        return self.pattern.sub(REDACTED, text) if self.pattern and text else text

    def q(self, column: str) -> Q:
        """Rows whose column may hold one of the strings (icontains: a superset of a match)."""
        query = Q(pk__in=[])
        for s in self.strings:
            query |= Q(**{f"{column}__icontains": s})
        return query


def _redact_json(value: Any, redact: _Redactor) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redact_json(item, redact) for item in value]
    if isinstance(value, dict):
        return {key: _redact_json(item, redact) for key, item in value.items()}
    return value


def _redact_webhook_deliveries(redact: _Redactor) -> int:
    """Names in the payloads of the webhook delivery log (townsquare/webhooks), read in
    Python: JSON text escapes letters outside ASCII, so the database cannot look for them."""
    from townsquare.webhooks.models import Delivery

    fields = ["payload", "response_excerpt", "last_error"]
    changed = []
    for delivery in Delivery.objects.only("id", *fields).iterator(chunk_size=500):
        before = (delivery.payload, delivery.response_excerpt, delivery.last_error)
        delivery.payload = _redact_json(delivery.payload, redact)
        # A receiver may echo the payload back.
        delivery.response_excerpt = redact(delivery.response_excerpt)
        delivery.last_error = redact(delivery.last_error)
        if (delivery.payload, delivery.response_excerpt, delivery.last_error) != before:
            changed.append(delivery)
    Delivery.objects.bulk_update(changed, fields, batch_size=500)
    return len(changed)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _opaque_id() -> str:
    return f"erased-{secrets.token_hex(16)}"


def _scrub_log_entries(objects: dict[type[Model], list[int]], member_ids: list[int]) -> int:
    """Admin history keeps each object's name as it was: "Zyxwvut Quokkason" changed."""
    query = Q(pk__in=[])
    for model, pks in objects.items():
        if pks:
            content_type = ContentType.objects.get_for_model(model)
            query |= Q(content_type=content_type, object_id__in=[str(pk) for pk in pks])
    entries = LogEntry.objects.filter(query)
    count = entries.count()
    for entry in entries.select_related("content_type"):
        kind = entry.content_type.model_class() if entry.content_type else None
        is_member = kind is Member and entry.object_id and int(entry.object_id) in member_ids
        entry.object_repr = f"Erased member #{entry.object_id}" if is_member else REDACTED
        entry.change_message = ""
        entry.save(update_fields=["object_repr", "change_message"])
    return count


def do_erase_member(*, member: Member, actor: User | None, reason: str = "") -> Erasure:
    """Erase the personal data of the person this member is (see the module's docstring),
    in one transaction, and log it with counts only."""
    from townsquare.connectors.models import ImportRun, RejectedRecord
    from townsquare.listening.models import Enrichment, LabelCorrection, TermMatch
    from townsquare.metrics.rollups import day_of, refresh_days

    with transaction.atomic():
        members = person_members(member)
        ids = [m.pk for m in members]
        now = timezone.now()
        identities = list(Identity.objects.filter(member_id__in=ids).order_by("id"))
        identity_ids = [i.pk for i in identities]
        interactions = Interaction.objects.filter(
            Q(member_id__in=ids) | Q(identity_id__in=identity_ids)
        )
        rows = list(interactions.values_list("id", "external_id", "text", "conversation_id"))
        interaction_ids = [row[0] for row in rows]
        redact = _Redactor(
            [
                *(m.display_name for m in members if m.erased_at is None),
                *(s for i in identities for s in (i.handle, i.display_name, i.email)),
                *(i.profile_url for i in identities),
                *(i.external_id for i in identities if not i.external_id.startswith("erased-")),
            ]
        )
        counts: dict[str, int] = {"members": len(ids), "identities": len(identities)}

        # Conversations they started, or whose title is one of their lines or names them.
        first_lines = {_first_line(text)[:500].casefold() for _pk, _e, text, _c in rows if text}
        first = Interaction.objects.filter(conversation_id=OuterRef("pk")).order_by(
            "created_at", "id"
        )
        blank_titles = [
            pk
            for pk, title, first_member, first_identity in Conversation.objects.filter(
                id__in=interactions.values("conversation_id")
            )
            .annotate(
                first_member=Subquery(first.values("member_id")[:1]),
                first_identity=Subquery(first.values("identity_id")[:1]),
            )
            .values_list("id", "title", "first_member", "first_identity")
            if title
            and (
                first_member in ids
                or first_identity in identity_ids
                or title.strip().casefold() in first_lines
                or redact(title) != title
            )
        ]
        counts["conversation_titles"] = Conversation.objects.filter(id__in=blank_titles).update(
            title=""
        )

        # An interaction id that embeds an address (a mail's Message-ID) goes too.
        renamed = {ext: _opaque_id() for _pk, ext, _t, _c in rows if redact(ext) != ext}
        for old, new in renamed.items():
            Interaction.objects.filter(
                Q(member_id__in=ids) | Q(identity_id__in=identity_ids), external_id=old
            ).update(external_id=new)
            Interaction.objects.filter(parent_external_id=old).update(parent_external_id=new)

        counts["interactions"] = interactions.update(text="", raw=None, url="")
        counts["enrichments"] = Enrichment.objects.filter(
            interaction_id__in=interaction_ids
        ).update(
            analyzed=False,
            language=None,
            language_confidence=0.0,
            sentiment=None,
            sentiment_label="",
            is_question=False,
            question_score=0.0,
            is_gratitude=False,
            emotion="",
            emotion_scores={},
            toxicity=0.0,
            is_toxic=False,
            spam=0.0,
            is_spam=False,
            keywords=[],
            corrected=[],
        )
        # The blanked labels leave the sentiment counts of the metrics' rollups.
        refresh_days(
            {day_of(t) for t in interactions.values_list("created_at", flat=True)},
            labels_only=True,
        )
        # Corrections and term matches were read in the text; without it they mean nothing
        # (and would train the analyzers on empty messages).
        counts["label_corrections"] = LabelCorrection.objects.filter(
            interaction_id__in=interaction_ids
        ).delete()[0]
        counts["term_matches"] = TermMatch.objects.filter(
            interaction_id__in=interaction_ids
        ).delete()[0]

        for identity in identities:
            identity.external_id = _opaque_id()
            identity.handle = identity.display_name = identity.email = identity.profile_url = ""
            identity.raw = None
        Identity.objects.bulk_update(
            identities,
            ["external_id", "handle", "display_name", "email", "profile_url", "raw"],
        )

        note_ids = list(Note.objects.filter(member_id__in=ids).values_list("id", flat=True))
        touchpoint_ids = list(
            Touchpoint.objects.filter(member_id__in=ids).values_list("id", flat=True)
        )
        knowledge_ids = list(
            KnowledgeEntry.objects.filter(member_id__in=ids).values_list("id", flat=True)
        )
        counts["log_entries"] = _scrub_log_entries(
            {
                Member: ids,
                Identity: identity_ids,
                Interaction: interaction_ids,
                Conversation: blank_titles,
                Note: note_ids,
                Touchpoint: touchpoint_ids,
                KnowledgeEntry: knowledge_ids,
            },
            ids,
        )
        counts["notes"] = Note.objects.filter(id__in=note_ids).delete()[0]
        counts["touchpoints"] = Touchpoint.objects.filter(id__in=touchpoint_ids).delete()[0]
        counts["knowledge_entries"] = KnowledgeEntry.objects.filter(id__in=knowledge_ids).delete()[
            0
        ]
        counts["tags"] = MemberTag.objects.filter(member_id__in=ids).delete()[0]
        counts["merge_suggestions"] = MergeSuggestion.objects.filter(
            Q(member_a_id__in=ids) | Q(member_b_id__in=ids)
        ).delete()[0]

        for m in members:
            m.display_name = f"Erased member #{m.pk}"
            m.custom_fields = {}
            m.do_not_contact = True
            m.erased_at = m.erased_at or now
        Member.objects.bulk_update(
            members, ["display_name", "custom_fields", "do_not_contact", "erased_at"]
        )

        # Free text written about them elsewhere: audit reasons, import logs and excerpts.
        redacted = 0
        audits = AuditEntry.objects.filter(id__in=_audit_entries_naming(ids))
        for entry in audits.filter(redact.q("reason")):
            entry.reason = redact(entry.reason)
            entry.save(update_fields=["reason"])
            redacted += 1
        for rejected in RejectedRecord.objects.filter(redact.q("excerpt") | redact.q("location")):
            rejected.excerpt = redact(rejected.excerpt)
            rejected.location = redact(rejected.location)
            rejected.reason = redact(rejected.reason)
            rejected.save(update_fields=["excerpt", "location", "reason"])
            redacted += 1
        for run in ImportRun.objects.filter(redact.q("log") | redact.q("error") | redact.q("path")):
            run.log = redact(run.log)
            run.error = redact(run.error)
            run.path = redact(run.path)
            run.save(update_fields=["log", "error", "path"])
            redacted += 1
        redacted += _redact_webhook_deliveries(redact)
        counts["redacted_texts"] = redacted

        AuditEntry.objects.create(
            action=AuditAction.ERASE,
            member_ids=ids,
            actor=actor if actor is not None and actor.pk else None,
            reason=redact(reason.strip()),
            details={"counts": counts},
        )
        erasure = Erasure(member_ids=ids, counts=counts)
        transaction.on_commit(lambda: _empty_write_ahead_log(erasure))
    return erasure


def _empty_write_ahead_log(erasure: Erasure) -> None:
    """SQLite's write-ahead log keeps the pages as they were before the erasure until a
    checkpoint copies them back and the log restarts: truncate it now. A reader holding an
    old snapshot (a long request) can keep it from finishing; the next checkpoint does."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        row = cursor.fetchone()
    # (busy, log frames, checkpointed frames); -1 frames: not in WAL mode (an in-memory db).
    erasure.log_checkpointed = bool(row) and row[0] == 0
    if not erasure.log_checkpointed:
        logger.warning("erasure: the write-ahead log could not be emptied yet (%s)", row)
