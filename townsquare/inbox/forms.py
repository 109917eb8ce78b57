"""The inbox's forms: the list's filters (read from the query string; a bad value drops its
filter), "mark as answered", and a saved reply."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any, cast

from django import forms
from django.urls import reverse

from townsquare.community.models import Channel, Platform, Source
from townsquare.front.labels import language_names
from townsquare.inbox.models import SavedReply
from townsquare.inbox.replies import VARIABLES, check_body
from townsquare.listening.models import SentimentLabel

# key -> (label, how long the conversation has waited at least)
AGES: dict[str, tuple[str, timedelta]] = {
    "1h": ("Over 1 hour", timedelta(hours=1)),
    "24h": ("Over 24 hours", timedelta(hours=24)),
    "7d": ("Over 7 days", timedelta(days=7)),
}
CLAIMS = {"mine": "Claimed by me", "unclaimed": "Unclaimed"}
SORTS = {"oldest": "Oldest waiting first", "newest": "Newest first"}
SENTIMENTS = [
    (value, label)
    for value, label in SentimentLabel.choices
    if value in (SentimentLabel.NEGATIVE, SentimentLabel.NEUTRAL, SentimentLabel.POSITIVE)
]
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class InboxFilters:
    """The inbox list's filters, valid and typed; the defaults filter nothing."""

    source: int | None = None
    channel: int | None = None
    platform: str = ""
    language: str = ""
    sentiment: str = ""
    age: str = ""
    question: bool = False
    claim: str = ""
    sort: str = "oldest"

    def params(self) -> dict[str, str]:
        """The query-string parameters that give these filters back (defaults left out)."""
        defaults = InboxFilters()
        params: dict[str, str] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value != getattr(defaults, field.name):
                params[field.name] = "on" if value is True else str(value)
        return params


class InboxFilterForm(forms.Form):
    source = forms.IntegerField(
        label="Source", required=False, min_value=1, max_value=MAX_ID, widget=forms.Select
    )
    channel = forms.IntegerField(
        label="Channel", required=False, min_value=1, max_value=MAX_ID, widget=forms.Select
    )
    platform = forms.ChoiceField(
        label="Platform", required=False, choices=[("", "All platforms"), *Platform.choices]
    )
    language = forms.ChoiceField(label="Language", required=False)
    sentiment = forms.ChoiceField(
        label="Sentiment", required=False, choices=[("", "Any"), *SENTIMENTS]
    )
    age = forms.ChoiceField(
        label="Waiting",
        required=False,
        choices=[("", "Any time"), *((k, label) for k, (label, _) in AGES.items())],
    )
    claim = forms.ChoiceField(
        label="Claimed", required=False, choices=[("", "Claimed or not"), *CLAIMS.items()]
    )
    sort = forms.ChoiceField(label="Order", required=False, choices=list(SORTS.items()))
    question = forms.BooleanField(label="Questions only", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = cast(forms.ChoiceField, self.fields["language"])
        names = sorted(language_names().items(), key=lambda pair: (pair[1], pair[0]))
        language.choices = [("", "Any language"), *((c, f"{n} ({c})") for c, n in names)]
        self.known_ids: dict[str, set[int]] = {}
        self.source_chosen = False

    def load_choices(self) -> None:
        """The sources' options (one query) and, for a chosen source, its channels' (one)."""
        sources = list(Source.objects.order_by("name").values_list("id", "name", "platform"))
        platforms = dict(Platform.choices)
        self._set_options(
            "source", "All sources", [(pk, f"{n} ({platforms.get(p, p)})") for pk, n, p in sources]
        )
        # Choosing a source redraws the filters: the channel list is that source's. (consume:
        # the form's own refresh, which swaps only the results, is not sent too.)
        self.fields["source"].widget.attrs.update(
            {
                "hx-get": reverse("inbox"),
                "hx-trigger": "change consume",
                "hx-include": "closest form",
                "hx-target": "#inbox-listing",
                "hx-select": "#inbox-listing",
                "hx-swap": "outerHTML",
                "hx-push-url": "true",
            }
        )
        self.known_ids = {"source": {pk for pk, _, _ in sources}}
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

    def filters(self) -> InboxFilters:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        values = {f.name: data[f.name] for f in fields(InboxFilters) if data.get(f.name)}
        for name, known in self.known_ids.items():
            if name in values and values[name] not in known:
                del values[name]
        if values.get("source") is None:
            values.pop("channel", None)  # a channel is chosen within a source
        return InboxFilters(**values)


class AnsweredForm(forms.Form):
    link = forms.CharField(
        label="Link to the answer (optional)",
        required=False,
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://…"}),
    )


class SavedReplyForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = SavedReply
        fields = ["title", "body"]
        labels = {"body": "Text"}
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}
        help_texts = {
            "body": "Plain text. Variables: "
            + "; ".join(f"{{{name}}} is {meaning}" for name, meaning in VARIABLES.items())
            + "."
        }

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        try:
            check_body(body)
        except ValueError as e:
            raise forms.ValidationError(str(e)) from None
        return body
