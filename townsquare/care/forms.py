from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from townsquare.care.models import CareSettings, Rule, Status
from townsquare.staff.models import Role

SNOOZE_CHOICES = [
    ("tomorrow", "Until tomorrow morning"),
    ("week", "For a week"),
    ("date", "Until…"),
]


class QueueFilters(forms.Form):
    rule = forms.ChoiceField(choices=[("", "Any reason"), *Rule.choices], required=False)
    who = forms.ChoiceField(
        label="Assigned",
        choices=[("", "Anyone"), ("me", "Assigned to me"), ("nobody", "Unassigned")],
        required=False,
    )
    status = forms.ChoiceField(
        choices=[
            ("", "Open"),
            (Status.SNOOZED, "Snoozed"),
            ("closed", "Resolved and dismissed"),
        ],
        required=False,
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Nobody"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Anyone who may work the queue: managers, admins and superusers.
        field = cast(forms.ModelChoiceField[User], self.fields["assignee"])
        field.queryset = (
            User.objects.filter(is_active=True)
            .filter(Q(is_superuser=True) | Q(staff_role__role__in=[Role.MANAGER, Role.ADMIN]))
            .order_by("username")
        )


class SnoozeForm(forms.Form):
    snooze = forms.ChoiceField(label="Snooze", choices=SNOOZE_CHOICES)
    until = forms.DateField(
        label="Date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        now = timezone.localtime()
        choice = data.get("snooze")
        day: date | None
        if choice == "tomorrow":
            day = now.date() + timedelta(days=1)
        elif choice == "week":
            day = now.date() + timedelta(days=7)
        else:
            day = data.get("until")
            if day is None:
                raise forms.ValidationError("Choose the date to snooze until.")
            if day <= now.date():
                raise forms.ValidationError("Choose a date after today.")
        data["until_at"] = timezone.make_aware(datetime.combine(day, time(8)))
        return data


class ResolveForm(forms.Form):
    what = forms.CharField(
        label="What was done",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Logged as a touchpoint on the member's profile.",
    )
    outcome = forms.CharField(label="Outcome", max_length=2000, required=False)
    channel = forms.CharField(
        label="Where", max_length=100, required=False, help_text="e.g. Slack DM, email, call"
    )


class DismissForm(forms.Form):
    reason = forms.CharField(
        label="Why no touch is needed",
        max_length=2000,
        help_text="Dismissals lower the weight of these rules for similar items.",
    )


class CareSettingsForm(forms.ModelForm[CareSettings]):
    class Meta:
        model = CareSettings
        fields = [
            "default_sla_hours",
            "business_hours_only",
            "business_day_start",
            "business_day_end",
            "business_weekdays",
        ]
        labels = {
            "default_sla_hours": "Answer time (hours)",
            "business_hours_only": "Count business hours only",
            "business_day_start": "Business day starts (hour)",
            "business_day_end": "Business day ends (hour)",
            "business_weekdays": "Business days (0 = Monday … 6 = Sunday)",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("business_day_start"), data.get("business_day_end")
        if start is not None and end is not None and not 0 <= start < end <= 24:
            raise forms.ValidationError("The business day must start before it ends (0–24).")
        days = str(data.get("business_weekdays", ""))
        parts = [d.strip() for d in days.split(",") if d.strip()]
        if not parts or any(not p.isdigit() or int(p) > 6 for p in parts):
            self.add_error("business_weekdays", "List days as numbers 0–6, e.g. 0,1,2,3,4.")
        return data
