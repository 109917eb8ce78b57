"""Writes of the API app: its tokens, and renaming a member (no community service does yet)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils import timezone

from townsquare.api.models import ApiToken
from townsquare.api.tokens import hash_key, new_key, visible_prefix
from townsquare.community.models import Member

NAME_LENGTH = ApiToken._meta.get_field("name").max_length or 100
DISPLAY_NAME_LENGTH = Member._meta.get_field("display_name").max_length or 255


def do_create_token(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for the user, and its key: the only time the key exists in clear."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("A token needs a name (what uses it: 'nightly export', 'CRM sync').")
    if len(name) > NAME_LENGTH:
        raise ValueError(f"A token's name is at most {NAME_LENGTH} characters.")
    key = new_key()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=visible_prefix(key), key_hash=hash_key(key)
    )
    return token, key


def do_revoke_token(*, token: ApiToken) -> ApiToken:
    """Refuse the token from now on; the row stays, so lists show when it was revoked."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def do_rename_member(*, member: Member, display_name: str) -> Member:
    """Give a member the name staff know them by (no community service renames members yet)."""
    if member.merged_into_id is not None:
        raise ValueError("This member was merged into another: change that member instead.")
    if member.erased_at is not None:
        raise ValueError("This member's personal data was erased.")
    display_name = " ".join(display_name.split())
    if not display_name:
        raise ValueError("A member needs a name.")
    if len(display_name) > DISPLAY_NAME_LENGTH:
        raise ValueError(f"A name is at most {DISPLAY_NAME_LENGTH} characters.")
    if display_name != member.display_name:
        member.display_name = display_name
        member.save(update_fields=["display_name"])
    return member
