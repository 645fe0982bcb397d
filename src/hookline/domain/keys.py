"""API keys, operator keys and the admin token: random, shown once, stored as SHA-256 hashes,
compared in constant time; and a short-lived cache of the keys requests present."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Generic, Protocol

from typing_extensions import TypeVar

from hookline.domain.models import ApiKey

KEY_PREFIX = "hlk_"
#: What an operator key starts with: a token with it is looked up among the operator keys only.
OPERATOR_PREFIX = "hlo_"
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


class StoredKey(Protocol):
    """What the cache needs of a key: its id and the hash it is found by."""

    @property
    def id(self) -> str: ...

    @property
    def key_hash(self) -> str: ...


K = TypeVar("K", bound=StoredKey, default=ApiKey)


class KeyCache(Generic[K]):
    """Unrevoked keys (workspace API keys, or operator keys) by token hash, each remembered for
    ``ttl`` seconds.

    Saves the database read that authenticating a request with an API key costs. A key revoked
    through this process is forgotten at once (``forget``); one revoked through another process
    sharing the database keeps working here for at most ``ttl`` seconds after the revocation
    commits. Only keys found are remembered: a key created anywhere works at once. ``ttl`` 0
    remembers nothing.
    """

    def __init__(
        self,
        ttl: float = 5.0,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._keys: dict[str, tuple[float, K]] = {}
        # Bumped by every ``forget``: a lookup that began before a revocation must not put the
        # key it read back after the revocation dropped it.
        self._generation = 0

    def get(self, key_hash: str) -> K | None:
        """The key with this hash if it was found less than ``ttl`` seconds ago."""
        found = self._keys.get(key_hash)
        if found is None:
            return None
        if found[0] <= self._clock():
            del self._keys[key_hash]
            return None
        return found[1]

    def generation(self) -> int:
        """To pass to ``put`` for a key read from the database after this call."""
        return self._generation

    def put(self, key: K, generation: int) -> None:
        """Remember a key read from the store, unless a key was forgotten since ``generation``."""
        if self.ttl <= 0 or generation != self._generation:
            return
        if len(self._keys) >= self._max:
            self._keys.clear()
        self._keys[key.key_hash] = (self._clock() + self.ttl, key)

    def forget(self, key_id: str) -> None:
        """Drop a key (it was revoked); lookups in flight will not remember it either."""
        self.forget_where(lambda key: key.id == key_id)

    def forget_where(self, gone: Callable[[K], bool]) -> None:
        """Drop every key ``gone`` is true of (a deleted workspace's keys, say); lookups in
        flight will not remember any key either."""
        self._generation += 1
        for key_hash, (_, key) in list(self._keys.items()):
            if gone(key):
                del self._keys[key_hash]
