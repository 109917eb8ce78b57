"""Forms of the webhook pages: a subscription's URL and events, and the delivery log's
filter (a bad value just drops it)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from townsquare.webhooks.http import TargetError, check_target
from townsquare.webhooks.models import DeliveryStatus, Event

NOT_HTTP = "Enter an http:// or https:// URL, like https://example.org/hooks/townsquare."


class EventsField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Events")
        kwargs.setdefault("error_messages", {"required": "Choose at least one event."})
        super().__init__(choices=Event.choices, **kwargs)


class SubscriptionForm(forms.Form):
    # A CharField: Django's URLField would turn "example.org" into http:// and accept ftp.
    url = forms.CharField(
        label="URL",
        max_length=2000,
        help_text="Where Townsquare POSTs the events, as signed JSON.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.org/hooks/townsquare"}),
    )
    events = EventsField()

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"]).strip()
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise ValidationError(NOT_HTTP) from None
        try:
            check_target(url)
        except TargetError as e:
            raise ValidationError(str(e)) from None
        return url


class EventsForm(forms.Form):
    events = EventsField()


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status", choices=[("", "Any status"), *DeliveryStatus.choices], required=False
    )

    def values(self) -> dict[str, Any]:
        self.is_valid()
        return {"status": getattr(self, "cleaned_data", {}).get("status") or ""}
