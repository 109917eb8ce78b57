"""The member page's portrait of a person: engagement level, interests, expertise, the people
they talk with, activity over time, and the timeline's filters. `front.views.member` renders it
with `profile_context`; each section is one query (community/profile.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms

from townsquare.community import profile
from townsquare.community.engagement import describe, engagement_of
from townsquare.community.models import InteractionKind, Member, Source


class TimelineFilterForm(forms.Form):
    """The member timeline's filters, from GET parameters; a bad value is ignored."""

    source = forms.IntegerField(label="Source", required=False, min_value=1)
    channel = forms.IntegerField(label="Channel", required=False, min_value=1)
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "All kinds"), *InteractionKind.choices]
    )
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def values(self) -> dict[str, Any]:
        """The valid filters as `queries.member_timeline` takes them."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        since: date | None = data.get("since")
        until: date | None = data.get("until")
        return {
            "source_id": data.get("source"),
            "channel_id": data.get("channel"),
            "kind": data.get("kind") or "",
            "since": since,
            "until": until,
        }

    @property
    def active(self) -> bool:
        return any(v for v in self.values().values())


def _sources(person: Member) -> list[Source]:
    """The sources of the member's identities (prefetched with their source: no query)."""
    seen: dict[int, Source] = {}
    for identity in person.identities.all():
        seen.setdefault(identity.source_id, identity.source)
    return sorted(seen.values(), key=lambda s: (s.name, s.pk))


class Lazy:
    """A section computed when the template first reads it, once: the template calls it (a
    callable context value) wherever it reads it. The timeline's htmx refresh renders the
    timeline alone and pays for no section of the portrait."""

    def __init__(self, compute: Callable[[], Any]) -> None:
        self._compute = compute
        self._done = False
        self._value: Any = None

    def __call__(self) -> Any:
        if not self._done:
            self._value = self._compute()
            self._done = True
        return self._value


def profile_context(
    person: Member, timeline: TimelineFilterForm, *, sees_hidden: bool
) -> dict[str, Any]:
    """What member.html's profile sections show: five queries, made only when rendered.
    `sees_hidden`: the reader may see what moderators hid (interests and expertise leave
    those messages out otherwise)."""
    engagement = Lazy(lambda: engagement_of(person))
    return {
        "engagement": engagement,
        "engagement_text": Lazy(
            lambda: describe(engagement().explanation, with_level=False) if engagement() else ""
        ),
        "interests": Lazy(lambda: profile.interests(person, sees_hidden=sees_hidden)),
        "expertise": Lazy(lambda: profile.expertise(person, sees_hidden=sees_hidden)),
        "contacts": Lazy(lambda: profile.people(person)),
        "activity": Lazy(lambda: profile.activity(person)),
        # The portrait reads a window of their latest interactions; the page says so when
        # that is not all of them.
        "portrait_window": profile.PORTRAIT_INTERACTIONS,
        "portrait_windowed": person.interaction_count > profile.PORTRAIT_INTERACTIONS,
        "spark_width": profile.SPARK_WIDTH,
        "spark_height": profile.SPARK_HEIGHT,
        "timeline_form": timeline,
        "timeline_filters": timeline.values(),
        "timeline_sources": _sources(person),
        "timeline_kinds": InteractionKind.choices,
    }
