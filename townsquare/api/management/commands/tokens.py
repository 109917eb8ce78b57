from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from townsquare.api.access import can_read_api
from townsquare.api.models import ApiToken
from townsquare.api.services import do_create_token, do_revoke_token


class Command(BaseCommand):
    help = "Create, list and revoke API tokens. A new token's key is printed once, never again."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="create a token for a user; prints its key")
        create.add_argument("username")
        create.add_argument("--name", required=True, help="what will use it, e.g. 'CRM sync'")
        actions.add_parser("list", help="list tokens (never their keys)")
        revoke = actions.add_parser("revoke", help="refuse a token from now on")
        revoke.add_argument("token_id", type=int)

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "create":
            self._create(opts["username"], opts["name"])
        elif opts["action"] == "list":
            self._list()
        else:
            self._revoke(opts["token_id"])

    def _create(self, username: str, name: str) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}", returncode=2)
        try:
            token, key = do_create_token(user=user, name=name)
        except ValueError as e:
            raise CommandError(str(e), returncode=2) from None
        if not can_read_api(user):
            self.stderr.write(
                f"warning: {username} has no staff role: the API refuses this token until "
                "they have one (townsquare staff role USERNAME ROLE)."
            )
        self.stdout.write(f"Created token #{token.pk} {token.name!r} for {username}.")
        self.stdout.write("Its key, shown this once (keep it secret; it cannot be shown again):")
        self.stdout.write(key)

    def _list(self) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("id")
        if not tokens:
            self.stdout.write("No tokens. Create one: townsquare tokens create USER --name NAME")
        for token in tokens:
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
            self.stdout.write(
                f"#{token.pk} {token.prefix}… {token.name!r} user={token.user.get_username()} "
                f"created {token.created_at:%Y-%m-%d %H:%M}, last used {used}, {state}"
            )

    def _revoke(self, token_id: int) -> None:
        token = ApiToken.objects.filter(pk=token_id).first()
        if token is None:
            raise CommandError(f"no token #{token_id}", returncode=2)
        already = token.revoked_at is not None
        do_revoke_token(token=token)
        self.stdout.write(
            f"Token #{token.pk} {token.name!r} was already revoked."
            if already
            else f"Revoked token #{token.pk} {token.name!r}."
        )
