"""API keys: how they look, how they are hashed. Only the hash is ever stored."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "nm-"
_VISIBLE = 10  # characters of the key shown in listings, e.g. "nm-3fa9c1d"


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(api_key: str) -> str:
    """SHA-256 is the right tool for long random keys: they cannot be guessed, only looked up."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def visible_prefix(api_key: str) -> str:
    return api_key[:_VISIBLE]


def looks_like_key(api_key: str) -> bool:
    return 16 <= len(api_key) <= 256 and api_key.isascii() and api_key.isprintable()
