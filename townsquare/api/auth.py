"""How an API request says who it is: a bearer token, or the session of a staff member signed in
in the browser (with CSRF on unsafe methods)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer

from townsquare.api.access import can_read_api
from townsquare.api.models import ApiToken
from townsquare.api.tokens import hash_key

# last_used_at is written at most this often per token, so reads do not each cost a write.
LAST_USED_PRECISION = timedelta(minutes=1)


def _allowed(user: AbstractBaseUser | AnonymousUser) -> Any:
    if not can_read_api(user):
        # Who they are is known, but they may not use the API: 403, not 401.
        raise HttpError(403, "This account may not use the API.")
    return user


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <key>`: the key's digest must match a token that was not revoked,
    of an active user."""

    def __call__(self, request: HttpRequest) -> Any:
        # Unlike HttpBearer's own, this never logs the header: it holds a secret.
        scheme, _, key = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != self.openapi_scheme or not key.strip():
            return None
        return self.authenticate(request, key.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=hash_key(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if found is None:
            return None
        now = timezone.now()
        if found.last_used_at is None or found.last_used_at <= now - LAST_USED_PRECISION:
            # A conditional UPDATE: concurrent requests write it once.
            ApiToken.objects.filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_PRECISION),
                pk=found.pk,
            ).update(last_used_at=now)
        request.user = found.user
        return _allowed(found.user)


class StaffSessionAuth(APIKeyCookie):
    """The browser session of a signed-in user. CSRF is checked on unsafe methods, and only when
    a session cookie came with the request, so a script without one gets a plain 401."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if key is None or not request.user.is_authenticated:
            return None
        return _allowed(request.user)
