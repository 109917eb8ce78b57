"""Forms of the moderation pages: the filters read the query string (a bad value just drops its
filter); the others are posted by moderators."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User

from townsquare.community.models import Channel
from townsquare.moderation.models import (
    ModerationAction,
    ModerationActionKind,
    ModerationItem,
    ModerationStatus,
    ReasonKind,
    WatchedWord,
    WatchedWordAction,
)
from townsquare.moderation.services import DECISIONS, clean_word


class ChannelChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"#{obj.name} ({obj.source.name})"


class ActorChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_username())


class QueueFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label="Reason", choices=[("", "Any reason"), *ReasonKind.choices], required=False
    )
    status = forms.ChoiceField(
        label="Status", choices=[("", "Any status"), *ModerationStatus.choices], required=False
    )
    # Only channels with flagged messages: a Q&A site can have thousands of tags.
    channel = ChannelChoiceField(
        label="Channel",
        queryset=Channel.objects.filter(
            id__in=ModerationItem.objects.values("interaction__channel_id")
        )
        .select_related("source")
        .order_by("name", "id"),
        required=False,
        empty_label="All channels",
    )

    def values(self) -> dict[str, Any]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "kind": data.get("kind") or "",
            "status": data.get("status") or "",
            "channel": data.get("channel"),
        }


class LogFilterForm(forms.Form):
    # Only people who acted: the staff list may be long.
    actor = ActorChoiceField(
        label="Who",
        queryset=User.objects.filter(
            id__in=ModerationAction.objects.filter(actor__isnull=False).values("actor_id")
        ).order_by("username"),
        required=False,
        empty_label="Anyone",
    )
    action = forms.ChoiceField(
        label="Action", choices=[("", "Any action"), *ModerationActionKind.choices], required=False
    )

    def values(self) -> dict[str, Any]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"actor": data.get("actor"), "action": data.get("action") or ""}


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[(a.value, a.label) for a in DECISIONS])
    reason = forms.CharField(required=False, max_length=1000, strip=True)


class WatchedWordForm(forms.Form):
    term = forms.CharField(label="Word or phrase", max_length=100, strip=True)
    action = forms.ChoiceField(
        label="When a message says it",
        choices=WatchedWordAction.choices,
        initial=WatchedWordAction.FLAG,
    )
    tag = forms.CharField(
        label="Tag (for “Tag only”)",
        max_length=64,
        required=False,
        strip=True,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        term, action = data.get("term"), data.get("action")
        if not term or not action:
            return data
        try:
            data["term"], data["tag"] = clean_word(term, action, data.get("tag") or "")
        except ValueError as e:
            self.add_error("tag" if action == WatchedWordAction.TAG else "term", str(e))
            return data
        existing = WatchedWord.objects.filter(term__iexact=data["term"]).first()
        if existing is not None:
            paused = "" if existing.is_active else " (paused: resume it in the list)"
            self.add_error("term", f"“{existing.term}” is already watched{paused}.")
        return data
