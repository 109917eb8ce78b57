"""Filter forms of the list pages: they read the query string; a bad value just drops its filter."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from townsquare.community.models import Channel, Source
from townsquare.front.queries import DEFAULT_MEMBER_SORT, MEMBER_SORTS


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
        return {"source": data.get("source"), "channel": data.get("channel")}
