"""Identifiers: a type prefix and a ULID body, sortable by creation time.

Ids made in one process are strictly increasing even within the same millisecond, which is
what FIFO delivery relies on to order a webhook's deliveries.
"""

from __future__ import annotations

import os
import threading
import time

ID_PREFIXES = tuple(
    f"{p}_"
    for p in (
        *("ws", "wh", "evt", "dlv", "att", "et", "key", "opk", "flow", "bin", "breq", "rpl"),
        *("pl", "aud"),  # portal links, audit entries
        *("app", "ep", "msg", "atmpt", "whsec"),  # Svix's own, which its clients may hold
    )
)
"""What Hookline's ids (and Svix's) start with. A user's ``uid`` may not start with one, so a
path segment is never both an object's id and another object's uid."""

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last_ms = 0
_last_rand = 0


# Two characters per look-up: a loop per character was a visible share of each delivery.
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]
_HIGH_SHIFTS = tuple(range(100, -10, -10))  # the first 22 characters, of ``value >> 20``
# The first 22 characters of the last id, by ``value >> 20``: ids made in the same millisecond
# differ by one in their random part, so consecutive ids share them (until a carry passes bit
# 20, about once per million). One tuple, replaced whole: threads never see a torn pair.
_high: tuple[int, str] = (-1, "")


def _ulid(ms: int, rand: int) -> str:
    """48 bits of milliseconds and 80 random bits as 26 Crockford base32 characters."""
    global _high
    value = (ms << 80) | rand
    high = value >> 20
    key, text = _high
    if key != high:
        text = "".join([_PAIRS[(high >> shift) & 1023] for shift in _HIGH_SHIFTS])
        _high = (high, text)
    return text + _PAIRS[(value >> 10) & 1023] + _PAIRS[value & 1023]


def _next_parts() -> tuple[int, int]:
    global _last_ms, _last_rand
    with _lock:
        now = time.time_ns() // 1_000_000
        if now <= _last_ms:
            now = _last_ms
            _last_rand = (_last_rand + 1) & ((1 << 80) - 1)
        else:
            _last_ms = now
            _last_rand = int.from_bytes(os.urandom(10), "big") >> 1
        return now, _last_rand


def new_id(prefix: str, *, at: float | None = None, floor: bool = False) -> str:
    """A new id such as ``wh_01HZX3…``: prefix, underscore, 26 Crockford base32 characters.

    ``at`` and ``floor`` give the lowest id of a moment instead: every id made at or after
    that time sorts above it, which turns a time cut-off into a primary-key range.
    """
    if at is not None and floor:
        return f"{prefix}_{_ulid(int(at * 1000), 0)}"
    ms, rand = _next_parts()
    return f"{prefix}_{_ulid(ms, rand)}"


def id_time(value: str) -> float:
    """When an id was made (epoch seconds, to the millisecond): its ULID's first 10 characters.

    Raises ``ValueError`` for text that is not such an id.
    """
    _, sep, body = value.rpartition("_")
    if not sep or len(body) != 26:
        raise ValueError(f"not an id: {value!r}")
    ms = 0
    for char in body[:10]:
        digit = _ALPHABET.find(char)
        if digit < 0:
            raise ValueError(f"not an id: {value!r}")
        ms = ms * 32 + digit
    return ms / 1000


def id_at(prefix: str, at: float, sequence: int) -> str:
    """The id made at ``at`` whose random part is ``sequence``: ids of one moment that sort by
    ``sequence``, for loading rows in bulk (benchmarks)."""
    return f"{prefix}_{_ulid(int(at * 1000), sequence & ((1 << 80) - 1))}"
