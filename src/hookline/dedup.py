"""Remembering event ids for a while, to drop redelivered duplicates.

Webhooks are delivered at least once, so the same event can arrive again; `event_id` picks the
id it keeps across retries and a `Deduplicator` remembers the ids seen, in a `MemoryDedupStore`
or any shared `DedupStore`. Standard library only, like `hookline.verify`, which re-exports
these names.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Final, Protocol

EVENT_ID_HEADERS: Final = ("webhook-id", "svix-id", "x-hookline-event-id")


def event_id(headers: Mapping[str, str]) -> str | None:
    """The event id to de-duplicate on: ``webhook-id``, ``svix-id`` or ``X-Hookline-Event-Id``."""
    lowered = {name.lower(): value.strip() for name, value in headers.items()}
    return next((lowered[name] for name in EVENT_ID_HEADERS if lowered.get(name)), None)


class DedupStore(Protocol):
    """Remembers keys for a while; share one across processes (e.g. Redis ``SET NX EX``)."""

    def add_if_absent(self, key: str, ttl: float) -> bool:
        """Record ``key`` for ``ttl`` seconds; False if it was already recorded and unexpired."""

    def discard(self, key: str) -> None:
        """Forget ``key`` (so that a redelivery is processed again)."""


class MemoryDedupStore:
    """An in-process `DedupStore` with expiry and a bounded size (oldest entries go first).

    Per-process only: with several workers, deliveries of one event may land on different
    processes, so use a shared store there.
    """

    def __init__(
        self, max_size: int = 100_000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._max_size = max_size
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()  # insertion order
        self._lock = threading.Lock()  # Flask and other WSGI servers call from many threads

    def add_if_absent(self, key: str, ttl: float) -> bool:
        """Record ``key`` for ``ttl`` seconds; False if it was already recorded and unexpired."""
        now = self._clock()
        with self._lock:
            self._drop_expired(now)
            if self._expiry.get(key, now) > now:
                return False
            self._expiry.pop(key, None)
            self._expiry[key] = now + ttl
            while len(self._expiry) > self._max_size:
                self._expiry.popitem(last=False)
            return True

    def discard(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._expiry.pop(key, None)

    def __len__(self) -> int:
        return len(self._expiry)

    def _drop_expired(self, now: float) -> None:
        # Only from the front: with mixed TTLs, expired entries further in are caught on lookup.
        while self._expiry:
            key, expiry = next(iter(self._expiry.items()))
            if expiry > now:
                return
            del self._expiry[key]


class Deduplicator:
    """Spots redeliveries of an event by its id (see `event_id`).

    Webhooks are delivered at least once: a receiver that answered too slowly gets the same
    event again. ``seen(id)`` records the id and says whether it had been recorded before;
    ``ttl`` should cover the sender's whole retry window. Call `forget` if processing failed
    and the redelivery should be processed after all.
    """

    def __init__(self, store: DedupStore | None = None, *, ttl: float = 24 * 3600) -> None:
        self.store: DedupStore = MemoryDedupStore() if store is None else store
        self.ttl = ttl

    def seen(self, event_id: str) -> bool:
        """Record ``event_id``; True if it was already recorded (a duplicate delivery)."""
        return not self.store.add_if_absent(event_id, self.ttl)

    def forget(self, event_id: str) -> None:
        """Forget ``event_id``, so that its next delivery counts as new."""
        self.store.discard(event_id)
