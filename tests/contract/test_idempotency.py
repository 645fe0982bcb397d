"""Idempotency keys (``store.idempotency``): claimed by the first request, answered from the kept
result until they expire, free again when released, expired or left running too long: the same
answers from both databases."""

from __future__ import annotations

from hookline.store import Store
from tests.contract.test_store import T0

#: Keys live 100 seconds; a request still running after 30 is taken for dead.
TTL, STALE = 100.0, 30.0


async def claim(store: Store, key: str, now: float) -> bool:
    return await store.idempotency.claim(key, now, now + TTL, STALE)


async def test_the_first_request_claims_a_key_and_a_repeat_gets_its_answer(store: Store) -> None:
    assert await store.idempotency.find("k", T0) is None
    assert await claim(store, "k", T0) is True
    assert await claim(store, "k", T0 + 1) is False
    assert await store.idempotency.find("k", T0 + 1) == (None, None)  # still running
    assert await store.idempotency.find("other", T0 + 1) is None
    await store.idempotency.settle("k", 201, '{"id": "msg_1"}')
    assert await store.idempotency.find("k", T0 + 2) == (201, '{"id": "msg_1"}')
    # A settled key is kept however long ago it was claimed, until it expires.
    assert await claim(store, "k", T0 + 99) is False
    assert await store.idempotency.find("k", T0 + 99) == (201, '{"id": "msg_1"}')
    assert await store.idempotency.find("k", T0 + TTL) is None  # expired
    assert await claim(store, "k", T0 + TTL) is True  # taken afresh
    assert await store.idempotency.find("k", T0 + TTL) == (None, None)


async def test_release_frees_a_running_key_but_not_a_settled_one(store: Store) -> None:
    assert await claim(store, "running", T0) is True
    assert await claim(store, "settled", T0) is True
    await store.idempotency.settle("settled", 200, "{}")
    await store.idempotency.release("running")
    await store.idempotency.release("settled")
    await store.idempotency.release("unknown")  # nothing to free is not an error
    assert await store.idempotency.find("running", T0 + 1) is None
    assert await store.idempotency.find("settled", T0 + 1) == (200, "{}")
    assert await claim(store, "running", T0 + 1) is True
    assert await claim(store, "settled", T0 + 1) is False


async def test_a_key_left_running_is_claimed_again_once_stale(store: Store) -> None:
    assert await claim(store, "k", T0) is True
    assert await claim(store, "k", T0 + STALE) is False  # not older than ``stale_after`` yet
    assert await claim(store, "k", T0 + STALE + 1) is True
    # The new claim runs from its own time: stale only ``stale_after`` after it.
    assert await claim(store, "k", T0 + 2 * STALE) is False
    assert await claim(store, "k", T0 + 2 * STALE + 2) is True


async def test_purge_removes_only_expired_keys(store: Store) -> None:
    assert await store.idempotency.claim("early", T0, T0 + 10, STALE) is True
    assert await store.idempotency.claim("late", T0, T0 + 20, STALE) is True
    await store.idempotency.settle("late", 200, "{}")
    assert await store.idempotency.purge(T0 + 9) == 0
    assert await store.idempotency.purge(T0 + 10) == 1
    assert await store.idempotency.purge(T0 + 10) == 0
    assert await store.idempotency.find("late", T0 + 10) == (200, "{}")
    assert await store.idempotency.purge(T0 + 30) == 1
    # Purged, the key is free: a claim (even one stamped before its expiry) takes it.
    assert await store.idempotency.claim("late", T0 + 15, T0 + 50, STALE) is True
