"""API keys: how they look, how they are hashed. The key itself is never stored."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "tsq_"
# How many characters of the key are kept in clear, to tell keys apart in lists.
VISIBLE_CHARS = 12


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    # A key carries 256 random bits, so a plain SHA-256 cannot be brute-forced and stays fast
    # enough to check on every request (a slow password hash would not).
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def visible_prefix(key: str) -> str:
    return key[:VISIBLE_CHARS]
