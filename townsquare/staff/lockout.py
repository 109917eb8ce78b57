"""The page a locked-out login gets (django-axes calls `locked_out`, settings.AXES_*): the
login form again, saying why it refuses and for how long."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return (
        f"Too many failed logins: this username is locked for {minutes} minutes from your "
        "address. Try again later, or ask an admin to unlock it "
        "(townsquare axes_reset_username USERNAME)."
    )


def locked_out(
    request: HttpRequest, response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """429 with the login form, its username kept, and the lockout said above it."""
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    context = {"form": form, "next": request.POST.get("next", ""), "lockout": lockout_message()}
    return render(request, "registration/login.html", context, status=429)
