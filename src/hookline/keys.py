"""API keys and the admin token: random, shown once, stored as SHA-256 hashes, compared in
constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_PREFIX = "hlk_"
ADMIN_HASH_META = "admin_token_sha256"


def new_token(prefix: str = KEY_PREFIX) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, expected_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), expected_hash)


def display_prefix(token: str) -> str:
    """The part of a key safe to show in listings, so users can tell keys apart."""
    return token[: len(KEY_PREFIX) + 6]
