"""The forms of a member's memory: notes, touchpoints, what they taught us, tags, fields."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from townsquare.community import memory

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _now_to_the_minute() -> datetime:
    return timezone.now().replace(second=0, microsecond=0)


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note",
        max_length=20_000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Markdown: **bold**, *italic*, [links](https://…), lists.",
    )


class TouchpointForm(forms.Form):
    happened_at = forms.DateTimeField(
        label="When (UTC)",
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    channel = forms.CharField(
        label="Channel",
        max_length=memory.CHANNEL_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"list": "touchpoint-channels", "autocomplete": "off"}),
    )
    reason = forms.CharField(
        label="Why", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    outcome = forms.CharField(
        label="Outcome", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"happened_at": _now_to_the_minute()})
        super().__init__(*args, **kwargs)

    def clean_happened_at(self) -> datetime:
        value: datetime = self.cleaned_data["happened_at"]
        if value > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError("A touchpoint is logged once it has happened.")
        return value


class KnowledgeForm(forms.Form):
    title = forms.CharField(label="What they taught us", max_length=memory.TITLE_LENGTH)
    url = forms.URLField(
        label="Link",
        required=False,
        max_length=memory.URL_LENGTH,
        assume_scheme="https",
        help_text="The tip, tool or article, if it has an address.",
    )
    note = forms.CharField(
        label="How we used it",
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Markdown.",
    )

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        try:
            return memory.http_url(url)
        except ValueError as e:
            raise forms.ValidationError(str(e)) from e


class TagForm(forms.Form):
    name = forms.CharField(label="Tag", max_length=memory.TAG_LENGTH)


class CustomFieldForm(forms.Form):
    name = forms.CharField(label="Field", max_length=memory.FIELD_NAME_LENGTH)
    value = forms.CharField(
        label="Value",
        max_length=memory.FIELD_VALUE_LENGTH,
        required=False,
        help_text="Leave empty to remove the field.",
    )
