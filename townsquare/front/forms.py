"""Filter forms of the list pages: they read the query string; a bad value just drops its filter."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from townsquare.community.models import Channel, Source
from townsquare.front.labels import language_names
from townsquare.front.queries import DEFAULT_MEMBER_SORT, LABEL_FILTERS, MEMBER_SORTS
from townsquare.listening.models import (
    CorrectableField,
    Enrichment,
    SentimentLabel,
    TermKind,
    TrackedTerm,
)
from townsquare.listening.pipeline import normalize_term


class SourceChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.get_platform_display()})"


class MemberFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.SearchInput(
            attrs={"placeholder": "Name, handle or email", "autocomplete": "off"}
        ),
    )
    source = SourceChoiceField(
        label="Source",
        queryset=Source.objects.order_by("name"),
        required=False,
        empty_label="All sources",
    )
    sort = forms.ChoiceField(
        label="Sort by",
        choices=[(key, label) for key, (label, _) in MEMBER_SORTS.items()],
        required=False,
        initial=DEFAULT_MEMBER_SORT,
    )

    def values(self) -> dict[str, Any]:
        """The valid filters; a field with a bad value is left out rather than failing."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "q": data.get("q") or "",
            "source": data.get("source"),
            "sort": data.get("sort") or DEFAULT_MEMBER_SORT,
        }


class ChannelChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"#{obj.name}"


class ConversationFilterForm(forms.Form):
    source = SourceChoiceField(
        label="Source",
        queryset=Source.objects.order_by("name"),
        required=False,
        empty_label="All sources",
    )
    # Channels are listed for the chosen source only: a Q&A site can have thousands of tags.
    channel = ChannelChoiceField(
        label="Channel",
        queryset=Channel.objects.none(),
        required=False,
        empty_label="All channels",
    )

    label = forms.ChoiceField(
        label="With a message that is",
        choices=[("", "Any")] + [(key, text) for key, (text, _) in LABEL_FILTERS.items()],
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        source_id = self.data.get("source", "")
        self.source_chosen = isinstance(source_id, str) and source_id.isdigit()
        if self.source_chosen:
            channel_field = cast(ChannelChoiceField, self.fields["channel"])
            channel_field.queryset = Channel.objects.filter(source_id=int(source_id)).order_by(
                "name", "id"
            )

    def values(self) -> dict[str, Any]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "source": data.get("source"),
            "channel": data.get("channel"),
            "label": data.get("label") or "",
        }


YES_NO = [("yes", "Yes"), ("no", "No")]
SENTIMENTS = [
    (value, label)
    for value, label in SentimentLabel.choices
    if value in (SentimentLabel.NEGATIVE, SentimentLabel.NEUTRAL, SentimentLabel.POSITIVE)
]
# Form field -> the Enrichment field it corrects.
# Language first: correcting it re-analyzes the message, and the other corrections then
# apply to the fresh row.
CORRECTED_FIELDS = {
    "language": CorrectableField.LANGUAGE,
    "sentiment": CorrectableField.SENTIMENT_LABEL,
    "toxic": CorrectableField.IS_TOXIC,
    "spam": CorrectableField.IS_SPAM,
    "question": CorrectableField.IS_QUESTION,
}


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


class LabelCorrectionForm(forms.Form):
    """A person's labels for one message, prefilled with the current ones; only the fields
    that differ from them become corrections."""

    sentiment = forms.ChoiceField(label="Sentiment", required=False)
    toxic = forms.ChoiceField(label="Toxic", choices=YES_NO)
    spam = forms.ChoiceField(label="Spam", choices=YES_NO)
    question = forms.ChoiceField(label="Question", choices=YES_NO)
    language = forms.ChoiceField(label="Language", required=False)
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "Why, for whoever trains the next model"}),
    )

    def __init__(self, data: Any = None, *, enrichment: Enrichment | None, prefix: str) -> None:
        self.enrichment = enrichment
        current = self.current_values()
        super().__init__(data, prefix=prefix, initial=current)
        sentiment = cast(forms.ChoiceField, self.fields["sentiment"])
        # Unsupported or not analyzed: no value to offer, and leaving it so changes nothing.
        unknown = current["sentiment"] not in dict(SENTIMENTS)
        sentiment.choices = ([("", "n/a (leave as is)")] if unknown else []) + SENTIMENTS
        codes = dict(language_names())
        if current["language"]:
            codes.setdefault(current["language"], current["language"])
        languages = sorted(codes.items(), key=lambda pair: (pair[1], pair[0]))
        language = cast(forms.ChoiceField, self.fields["language"])
        language.choices = ([] if current["language"] else [("", "unknown (leave as is)")]) + [
            (code, f"{name} ({code})") for code, name in languages
        ]

    def current_values(self) -> dict[str, str]:
        e = self.enrichment
        if e is None:
            return {"sentiment": "", "toxic": "no", "spam": "no", "question": "no", "language": ""}
        return {
            "sentiment": e.sentiment_label,
            "toxic": _yes_no(e.is_toxic),
            "spam": _yes_no(e.is_spam),
            "question": _yes_no(e.is_question),
            "language": e.language or "",
        }

    def changes(self) -> dict[str, str]:
        """Enrichment field -> the new value, for the fields the person changed."""
        current = self.current_values()
        changed: dict[str, str] = {}
        for name, target in CORRECTED_FIELDS.items():
            value = self.cleaned_data.get(name) or ""
            if value and value != current[name]:
                changed[target] = value
        return changed


class TrackedTermForm(forms.Form):
    term = forms.CharField(label="Term", max_length=100, strip=True)
    kind = forms.ChoiceField(label="Kind", choices=TermKind.choices, initial=TermKind.KEYWORD)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        term, kind = data.get("term"), data.get("kind")
        if not term or not kind:
            return data
        term = normalize_term(term, kind)
        if not any(c.isalnum() for c in term):
            self.add_error("term", "A term needs at least one letter or digit.")
            return data
        existing = TrackedTerm.objects.filter(term__iexact=term, kind=kind).first()
        if existing is not None:
            paused = "" if existing.is_active else " (paused: resume it in the list)"
            self.add_error("term", f"“{existing.term}” is already tracked as a {kind}{paused}.")
        data["term"] = term
        return data
