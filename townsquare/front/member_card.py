"""The member card: who someone is at a glance, beside a conversation or a care item.

`member_card(member)` gives `front/_member_card.html` what it shows in six queries, whatever
the member's history: the member with their engagement, identities with their sources, tags,
message count and languages (one aggregate), and the latest notes and touchpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count

from townsquare.community.engagement import describe
from townsquare.community.models import Interaction, Member, Note, Touchpoint
from townsquare.front.labels import language_name
from townsquare.front.members_filters import tags_prefetch
from townsquare.front.queries import identities_with_source
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
    """The member's message count, and the languages of their analysed messages, most used
    first: one aggregate query."""
    rows = (
        Interaction.objects.filter(member=member, kind__in=MESSAGE_KINDS)
        .order_by()
        .values_list("enrichment__language", "enrichment__analyzed")
        .annotate(n=Count("id"))
    )
    total = 0
    counts: dict[str, int] = {}
    for language, analyzed, n in rows:
        total += n
        if language and analyzed:
            counts[language] = counts.get(language, 0) + n
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
        "engagement_text": describe(engagement.explanation) if engagement else "",
        "languages": languages,
        "tags": [member_tag.tag for member_tag in person.member_tags.all()],
        "do_not_contact": person.do_not_contact,
        "erased": person.erased_at is not None,
        "notes": notes,
        "touchpoints": touchpoints,
        "url": person.get_absolute_url(),
    }
