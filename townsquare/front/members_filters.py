"""The member list's filters: read from a query string (the page's or a saved segment's), turned
into one queryset, and written out as CSV.

Filters refer to sources, channels and tags by id and are read without touching the database,
so counting a segment costs one query, and a segment whose tag was deleted matches nobody
rather than everybody.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar, cast

from django import forms
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.forms.renderers import BaseRenderer
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from townsquare.community.engagement import MOOD_WINDOWS
from townsquare.community.models import (
    Channel,
    Identity,
    Interaction,
    Member,
    MemberTag,
    Platform,
    Source,
    Tag,
)
from townsquare.community.text_search import containing
from townsquare.front import queries
from townsquare.front.labels import language_names
from townsquare.front.queries import DEFAULT_MEMBER_SORT, MEMBER_SORTS
from townsquare.lib.paging import ReadOnce
from townsquare.listening.models import Enrichment
from townsquare.moderation.visibility import message_hidden
from townsquare.people.models import EngagementLevel

# key -> (label, days): active = last seen within the days; inactive = not seen for them.
ACTIVITY_WINDOWS: dict[str, tuple[str, int]] = {
    "active7": ("Active in the last 7 days", 7),
    "active30": ("Active in the last 30 days", 30),
    "active90": ("Active in the last 90 days", 90),
    "inactive90": ("Inactive for 90 days or more", 90),
}
# key -> (label, days or None for all time). "Mostly negative" is computed with engagement
# levels (community/engagement.py, `negative_moods`) and read from their stored flags.
SENTIMENT_WINDOWS: dict[str, tuple[str, int | None]] = {
    "negative30": ("Mostly negative, last 30 days", 30),
    "negative90": ("Mostly negative, last 90 days", 90),
    "negative": ("Mostly negative, all time", None),
}
FLAG_CHOICES = [("", "Any"), ("yes", "Only"), ("no", "Exclude")]
FLAG_FIELDS = {"team": "is_team", "bot": "is_bot", "dnc": "do_not_contact"}
# The largest id a database integer column holds: a larger one is a bad value, not a crash.
MAX_ID = 2**63 - 1


class LanguageSelect(forms.Select):
    """The language filter's select, kept rendered per chosen value: its hundred options never
    change, and rendering each through Django's option template took longer, on every page of
    the member list, than the page's queries."""

    rendered: ClassVar[dict[tuple[object, ...], SafeString]] = {}
    # Any value can come in a query string: past this many kept, render without keeping.
    KEEP = 256

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        key = (
            name,
            str(value),
            tuple(sorted({**self.attrs, **(attrs or {})}.items())),
            tuple(self.choices),
        )
        html = self.rendered.get(key)
        if html is None:
            html = super().render(name, value, attrs, renderer)
            if len(self.rendered) < self.KEEP:
                self.rendered[key] = html
        return html


@dataclass(frozen=True)
class MemberFilters:
    """The member list's filters, valid and typed; the defaults filter nothing."""

    q: str = ""
    text: str = ""
    platform: str = ""
    source: int | None = None
    channel: int | None = None
    language: str = ""
    level: str = ""
    tag: int | None = None
    activity: str = ""
    first_seen_after: date | None = None
    first_seen_before: date | None = None
    sentiment: str = ""
    team: str = ""
    bot: str = ""
    dnc: str = ""
    merged: bool = False
    erased: bool = False
    sort: str = DEFAULT_MEMBER_SORT

    def params(self) -> dict[str, str]:
        """The query-string parameters that give these filters back: only those that differ
        from the defaults, so a saved segment and a link stay short."""
        defaults = MemberFilters()
        params: dict[str, str] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value == getattr(defaults, field.name):
                continue
            if isinstance(value, bool):
                params[field.name] = "on"
            elif isinstance(value, date):
                params[field.name] = value.isoformat()
            else:
                params[field.name] = str(value)
        return params

    def audit_params(self) -> dict[str, str]:
        """`params` for an audit entry: the free-text searches may name a person, so only
        their presence is recorded."""
        params = self.params()
        for name in ("q", "text"):
            if name in params:
                params[name] = "(given)"
        return params


class MemberListForm(forms.Form):
    """Every filter of the member list. A bad value drops its filter rather than failing."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.SearchInput(
            attrs={"placeholder": "Name, handle or email", "autocomplete": "off"}
        ),
    )
    text = forms.CharField(
        label="Messages containing",
        required=False,
        max_length=200,
        widget=forms.SearchInput(attrs={"placeholder": "Words they wrote", "autocomplete": "off"}),
    )
    platform = forms.ChoiceField(
        label="Platform", required=False, choices=[("", "All platforms"), *Platform.choices]
    )
    source = forms.IntegerField(
        label="Source", required=False, min_value=1, max_value=MAX_ID, widget=forms.Select
    )
    channel = forms.IntegerField(
        label="Wrote in", required=False, min_value=1, max_value=MAX_ID, widget=forms.Select
    )
    language = forms.ChoiceField(label="Wrote in language", required=False, widget=LanguageSelect)
    level = forms.ChoiceField(
        label="Engagement",
        required=False,
        choices=[("", "Any level"), *EngagementLevel.choices],
    )
    tag = forms.IntegerField(
        label="Tag", required=False, min_value=1, max_value=MAX_ID, widget=forms.Select
    )
    activity = forms.ChoiceField(
        label="Activity",
        required=False,
        choices=[("", "Any"), *((k, label) for k, (label, _) in ACTIVITY_WINDOWS.items())],
    )
    first_seen_after = forms.DateField(
        label="First seen from",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    first_seen_before = forms.DateField(
        label="First seen until",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    sentiment = forms.ChoiceField(
        label="Sentiment",
        required=False,
        choices=[("", "Any"), *((k, label) for k, (label, _) in SENTIMENT_WINDOWS.items())],
    )
    team = forms.ChoiceField(label="Staff", required=False, choices=FLAG_CHOICES)
    bot = forms.ChoiceField(label="Bots", required=False, choices=FLAG_CHOICES)
    dnc = forms.ChoiceField(label="Do not contact", required=False, choices=FLAG_CHOICES)
    merged = forms.BooleanField(label="Include merged members", required=False)
    erased = forms.BooleanField(label="Include erased members", required=False)
    sort = forms.ChoiceField(
        label="Sort by",
        choices=[(key, label) for key, (label, _) in MEMBER_SORTS.items()],
        required=False,
        initial=DEFAULT_MEMBER_SORT,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = cast(forms.ChoiceField, self.fields["language"])
        names = sorted(language_names().items(), key=lambda pair: (pair[1], pair[0]))
        language.choices = [("", "Any language"), *((c, f"{n} ({c})") for c, n in names)]
        self.source_names: dict[int, str] = {}
        self.tag_names: dict[int, str] = {}
        self.known_ids: dict[str, set[int]] = {}
        self.source_chosen = False

    def filters(self) -> MemberFilters:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        values = {f.name: data[f.name] for f in fields(MemberFilters) if data.get(f.name)}
        if values.get("sort") not in MEMBER_SORTS:
            values.pop("sort", None)
        for name in ("q", "text"):
            if name in values:
                values[name] = values[name].strip()
        # Once the options are loaded, an id that is not among them is a bad value: dropped,
        # as any other. (A saved segment is read without options: its deleted tag matches
        # nobody rather than everybody.)
        for name, known in self.known_ids.items():
            if name in values and values[name] not in known:
                del values[name]
        return MemberFilters(**values)

    def load_choices(self) -> None:
        """Options of the sources, tags and (for the chosen source) channels: a query each."""
        sources = list(Source.objects.order_by("name").values_list("id", "name", "platform"))
        platforms = dict(Platform.choices)
        self.source_names = {pk: name for pk, name, _ in sources}
        self._set_options(
            "source",
            "All sources",
            [(pk, f"{name} ({platforms.get(p, p)})") for pk, name, p in sources],
        )
        # Choosing a source redraws the filters too: the channel list is that source's.
        # `consume` keeps the event from the form's own search trigger (a filter expression
        # there would need eval, which the Content-Security-Policy forbids).
        self.fields["source"].widget.attrs.update(
            {
                "hx-get": reverse("members"),
                "hx-trigger": "input consume",
                "hx-include": "closest form",
                "hx-target": "#member-listing",
                "hx-select": "#member-listing",
                "hx-swap": "outerHTML",
                "hx-push-url": "true",
            }
        )
        self.tag_names = dict(Tag.objects.order_by("name").values_list("id", "name"))
        self._set_options("tag", "Any tag", list(self.tag_names.items()))
        self.known_ids = {"source": set(self.source_names), "tag": set(self.tag_names)}
        source = self.filters().source
        self.source_chosen = source is not None
        if source is not None:
            channels = Channel.objects.filter(source_id=source).order_by("name", "id")
            options = [(pk, f"#{name}") for pk, name in channels.values_list("id", "name")]
            self._set_options("channel", "All channels", options)
            self.known_ids["channel"] = {pk for pk, _ in options}

    def _set_options(self, name: str, empty: str, options: list[tuple[int, str]]) -> None:
        widget = cast(forms.Select, self.fields[name].widget)
        widget.choices = [("", empty), *options]

    MAIN_FIELDS = ("q", "text", "sort")
    FLAG_NAMES = ("merged", "erased")

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.MAIN_FIELDS]

    def more_fields(self) -> list[forms.BoundField]:
        skip = {*self.MAIN_FIELDS, *self.FLAG_NAMES, "source", "channel"}
        return [self[name] for name in self.fields if name not in skip]

    def flag_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.FLAG_NAMES]

    def more_active(self) -> bool:
        """Whether a filter beyond the search boxes is set: the extra filters are then shown."""
        return bool(set(self.filters().params()) - set(self.MAIN_FIELDS))

    def description(self) -> list[str]:
        """The active filters in words, for the result count."""
        f = self.filters()
        words: list[str] = []
        if f.q:
            words.append(f"matching “{f.q}”")
        if f.text:
            words.append(f"who wrote “{f.text}”")
        if f.platform:
            words.append(f"on {Platform(f.platform).label}")
        if f.source is not None:
            words.append(f"on {self.source_names.get(f.source, 'a deleted source')}")
        if f.tag is not None:
            words.append(f"tagged {self.tag_names.get(f.tag, '(deleted tag)')}")
        return words


def parse_filters(params: Mapping[str, Any]) -> MemberFilters:
    """The filters a query string or a saved segment asks for; no database query."""
    return MemberListForm(params).filters()


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def filter_members(f: MemberFilters, *, now: datetime | None = None) -> QuerySet[Member]:
    """The members these filters select, sorted, with identities and tags prefetched. Merged
    members (shown through the member they were merged into) and erased ones are left out
    unless asked for."""
    now = now or timezone.now()
    qs = queries.members(q=f.q, sort=f.sort)
    if not f.merged:
        qs = qs.filter(merged_into__isnull=True)
    if not f.erased:
        qs = qs.filter(erased_at__isnull=True)
    mine = OuterRef("pk")
    if f.text:
        # Who wrote it, from the text index (community/text_search.py): checking every
        # member for such a message read every message for the count. Not in the messages a
        # moderator hid: the list (and a segment, the same for every reader) would say who
        # wrote their words. The list page reads it once (`listed`), not for its count and
        # again for its page.
        wrote = (
            Interaction.objects.filter(containing(f.text), member__isnull=False)
            .exclude(message_hidden("pk"))
            .values("member_id")
        )
        qs = qs.filter(pk__in=wrote)
    # Platform, source and tag select the members through their own rows (IN, the rows'
    # indexes) rather than checking every member for such a row (EXISTS): the count reads
    # every member otherwise.
    if f.platform:
        qs = qs.filter(
            pk__in=Identity.objects.filter(source__platform=f.platform).values("member_id")
        )
    if f.source is not None:
        qs = qs.filter(pk__in=Identity.objects.filter(source_id=f.source).values("member_id"))
    if f.channel is not None:
        qs = qs.filter(Exists(Interaction.objects.filter(member=mine, channel_id=f.channel)))
    if f.language:
        # Who wrote in it, from the enrichments' (language, member) index alone, instead of
        # reading every member's messages for each member.
        qs = qs.filter(pk__in=Enrichment.objects.filter(language=f.language).values("member_id"))
    if f.level:
        qs = qs.filter(engagement__level=f.level)
    if f.tag is not None:
        qs = qs.filter(pk__in=MemberTag.objects.filter(tag_id=f.tag).values("member_id"))
    if f.activity in ACTIVITY_WINDOWS:
        since = now - timedelta(days=ACTIVITY_WINDOWS[f.activity][1])
        if f.activity.startswith("inactive"):
            qs = qs.filter(last_seen_at__lt=since)
        else:
            qs = qs.filter(last_seen_at__gte=since)
    if f.first_seen_after is not None:
        qs = qs.filter(first_seen_at__gte=_day_start(f.first_seen_after))
    if f.first_seen_before is not None and f.first_seen_before < date.max:
        qs = qs.filter(first_seen_at__lt=_day_start(f.first_seen_before + timedelta(days=1)))
    elif f.first_seen_before is not None:  # the last day there is: no next day to stop at
        qs = qs.filter(first_seen_at__isnull=False)
    if f.sentiment in SENTIMENT_WINDOWS:
        flag = MOOD_WINDOWS[SENTIMENT_WINDOWS[f.sentiment][1]]
        qs = qs.filter(**{f"engagement__{flag}": True})
    for name, field in FLAG_FIELDS.items():
        value = getattr(f, name)
        if value in ("yes", "no"):
            qs = qs.filter(**{field: value == "yes"})
    return qs.prefetch_related(tags_prefetch())


def listed(f: MemberFilters, members: QuerySet[Member]) -> QuerySet[Member] | ReadOnce[Member]:
    """What a paginated list of `members` (selected by `f`) reads. With a text filter, its
    ids once (the text search costs most of the page), then the page's rows by id."""
    if not f.text:
        return members
    return ReadOnce(
        members, Member.objects.prefetch_related(queries.identities_with_source(), tags_prefetch())
    )


def tags_prefetch() -> Prefetch[Any]:
    return Prefetch(
        "member_tags", queryset=MemberTag.objects.select_related("tag").order_by("tag__name")
    )


CSV_COLUMNS = [
    "id",
    "display_name",
    "platforms",
    "handles",
    "emails",
    "first_seen",
    "last_seen",
    "interactions",
    "tags",
    "flags",
]
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_CHUNK = 1000


def safe_cell(value: object) -> object:
    """The cell as written: text that a spreadsheet would run as a formula gets a `'` first."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _joined(values: list[str]) -> str:
    return "; ".join(dict.fromkeys(v for v in values if v))


def member_row(person: Member) -> list[object]:
    identities = list(person.identities.all())
    flags = [
        name
        for name, on in (
            ("team", person.is_team),
            ("bot", person.is_bot),
            ("do-not-contact", person.do_not_contact),
            ("merged", person.merged_into_id is not None),
            ("erased", person.erased_at is not None),
        )
        if on
    ]
    row: list[object] = [
        person.pk,
        person.display_name,
        _joined([i.source.get_platform_display() for i in identities]),
        _joined([i.handle for i in identities]),
        _joined([i.email for i in identities]),
        person.first_seen_at.isoformat() if person.first_seen_at else "",
        person.last_seen_at.isoformat() if person.last_seen_at else "",
        person.interaction_count,
        _joined([mt.tag.name for mt in person.member_tags.all()]),
        _joined(flags),
    ]
    return [safe_cell(cell) for cell in row]


class _Echo:
    """A file-like object whose `write` hands the line back, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_lines(members: QuerySet[Member]) -> Iterator[str]:
    """The CSV, line by line; members are read in chunks (each with its prefetches)."""
    writer = csv.writer(_Echo())
    yield cast(str, writer.writerow(CSV_COLUMNS))
    for person in members.iterator(chunk_size=CSV_CHUNK):
        yield cast(str, writer.writerow(member_row(person)))
