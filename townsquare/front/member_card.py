"""The member card: who someone is at a glance, beside a conversation or a care item.

`member_card(member)` gives `front/_member_card.html` what it shows in six queries, whatever
the member's history: the member with their engagement, identities with their sources, tags,
message count and languages (two aggregates), and the latest notes and touchpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count

from townsquare.community.engagement import describe
from townsquare.community.models import Interaction, Member, Note, Touchpoint
from townsquare.community.profile import PORTRAIT_INTERACTIONS
from townsquare.front.labels import language_name
from townsquare.front.members_filters import tags_prefetch
from townsquare.front.queries import identities_with_source
from townsquare.listening.models import Enrichment
from townsquare.listening.pulse import MESSAGE_KINDS
from townsquare.people.models import EngagementScore

# The card shows the latest few; the profile has the rest.
LATEST_MEMORY = 3


@dataclass(frozen=True)
class CardLanguage:
    code: str
    name: str
    messages: int
    percent: int


def _languages(member: Member) -> tuple[int, list[CardLanguage]]:
    """The member's message count, and the languages of their latest analysed messages (the
    profile portrait's window, PORTRAIT_INTERACTIONS), most used first: two queries. Counting
    the languages of every message joined 31,000 enrichments for the busiest member of the
    benchmark (200 ms on PostgreSQL); the count alone reads an index."""
    messages = Interaction.objects.filter(member=member, kind__in=MESSAGE_KINDS)
    total = messages.count()
    latest = messages.order_by("-created_at", "-id").values("id")[:PORTRAIT_INTERACTIONS]
    rows = (
        Enrichment.objects.filter(interaction_id__in=latest, analyzed=True)
        .exclude(language__isnull=True)
        .exclude(language="")
        .order_by()
        .values_list("language")
        .annotate(n=Count("pk"))
    )
    counts: dict[str, int] = {str(language): n for language, n in rows}
    analysed = sum(counts.values())
    languages = [
        CardLanguage(code, language_name(code), n, round(100 * n / analysed))
        for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    return total, languages


def _engagement(member: Member) -> EngagementScore | None:
    try:
        return member.engagement
    except EngagementScore.DoesNotExist:
        return None


def member_card(member: Member) -> dict[str, Any]:
    """What the card shows about a member (the one they were merged into, if they were)."""
    person = (
        Member.objects.select_related("engagement")
        .prefetch_related(identities_with_source(), tags_prefetch())
        .get(pk=member.merged_into_id or member.pk)
    )
    identities = list(person.identities.all())
    platforms = sorted({identity.source.get_platform_display() for identity in identities})
    engagement = _engagement(person)
    message_count, languages = _languages(person)
    notes = list(Note.objects.filter(member=person).select_related("author")[:LATEST_MEMORY])
    touchpoints = list(
        Touchpoint.objects.filter(member=person).select_related("staff")[:LATEST_MEMORY]
    )
    return {
        "member": person,
        "identities": identities,
        "platforms": platforms,
        "first_seen_at": person.first_seen_at,
        "last_seen_at": person.last_seen_at,
        "message_count": message_count,
        "engagement": engagement,
        "engagement_text": describe(engagement.explanation, with_level=False) if engagement else "",
        "languages": languages,
        "tags": [member_tag.tag for member_tag in person.member_tags.all()],
        "do_not_contact": person.do_not_contact,
        "erased": person.erased_at is not None,
        "notes": notes,
        "touchpoints": touchpoints,
        "url": person.get_absolute_url(),
    }
