"""The cache of API keys (``hookline.domain.keys.KeyCache``): time-bounded, forgets revoked keys."""

from __future__ import annotations

from hookline.domain.keys import KeyCache, hash_token
from hookline.domain.models import ApiKey


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def key(n: int, workspace: str = "ws_1") -> ApiKey:
    return ApiKey(f"key_{n}", workspace, "ci", "hlk_abc", hash_token(f"token-{n}"), 0.0)


def test_a_key_is_remembered_for_ttl_seconds() -> None:
    clock = Clock()
    cache = KeyCache(5.0, clock=clock)
    one = key(1)
    assert cache.get(one.key_hash) is None
    cache.put(one, cache.generation())
    assert cache.get(one.key_hash) == one
    clock.now += 4.9
    assert cache.get(one.key_hash) == one
    clock.now += 0.1
    assert cache.get(one.key_hash) is None


def test_forget_drops_the_key_and_lookups_begun_before_it() -> None:
    cache = KeyCache(5.0, clock=Clock())
    one, two = key(1), key(2)
    began = cache.generation()  # a lookup reads the database ...
    cache.put(two, cache.generation())
    cache.forget(one.id)  # ... while the key is revoked
    cache.put(one, began)  # what it read is stale: not remembered
    assert cache.get(one.key_hash) is None
    assert cache.get(two.key_hash) == two  # others stay
    cache.forget(two.id)
    assert cache.get(two.key_hash) is None
    cache.put(one, cache.generation())  # a lookup begun after the revocation is current
    assert cache.get(one.key_hash) == one


def test_a_zero_ttl_remembers_nothing_and_the_size_is_bounded() -> None:
    off = KeyCache(0.0, clock=Clock())
    off.put(key(1), off.generation())
    assert off.get(key(1).key_hash) is None
    small = KeyCache(5.0, max_entries=3, clock=Clock())
    for n in range(10):
        small.put(key(n), small.generation())
    assert sum(small.get(key(n).key_hash) is not None for n in range(10)) <= 3
    assert small.get(key(9).key_hash) == key(9)
