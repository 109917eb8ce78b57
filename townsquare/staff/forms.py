from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User

from townsquare.staff.models import Role


class AddStaffForm(UserCreationForm[User]):
    """A new staff member: Django's user creation form (unique username, the password twice,
    checked by the password validators) with an email and a role."""

    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")
        labels = {"email": "Email (optional)"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The form sits below the staff list: focusing it would scroll past the list.
        self.fields["username"].widget.attrs.pop("autofocus", None)
        self.fields["password2"].help_text = ""


class RoleForm(forms.Form):
    """One user's new role; empty takes the role away."""

    role = forms.ChoiceField(choices=[("", "No role"), *Role.choices], required=False)
