"""SharedReads: callers asking for one key while it is being read share that read; the API's
key lookups use it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import cast

import pytest

from hookline.api.auth import _identify
from hookline.api.state import AppState
from hookline.domain.keys import KeyCache
from hookline.domain.models import ApiKey, OperatorKey
from hookline.runtime.shared_reads import SharedReads


class Reader:
    """A read that counts its calls and waits for ``release``."""

    def __init__(self, answer: str = "value") -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.answer = answer
        self.failure: Exception | None = None

    async def __call__(self) -> str:
        self.calls += 1
        await self.release.wait()
        if self.failure is not None:
            raise self.failure
        return self.answer


async def reader_and_waiter(
    reader: Reader,
) -> tuple[asyncio.Task[str], asyncio.Task[str]]:
    """Two callers of one key: the first reads (and waits for ``reader.release``), the second
    waits for its answer."""
    reads: SharedReads[str] = SharedReads()
    first = asyncio.create_task(reads("k", reader))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(reads("k", reader))
    await asyncio.sleep(0)
    return first, waiter


async def test_callers_during_a_read_share_it() -> None:
    reads: SharedReads[str] = SharedReads()
    reader = Reader()
    callers = [asyncio.create_task(reads("k", reader)) for _ in range(20)]
    await asyncio.sleep(0)
    reader.release.set()
    assert await asyncio.gather(*callers) == ["value"] * 20
    assert reader.calls == 1


async def test_other_keys_and_later_callers_read_again() -> None:
    reads: SharedReads[str] = SharedReads()
    reader = Reader()
    reader.release.set()
    assert await reads("k", reader) == "value"
    assert await reads("k", reader) == "value"
    assert list(await asyncio.gather(reads("a", reader), reads("b", reader))) == ["value"] * 2
    assert reader.calls == 4


async def test_a_failure_reaches_every_caller_of_that_read() -> None:
    reads: SharedReads[str] = SharedReads()
    reader = Reader()
    reader.failure = ConnectionError("database gone")
    callers = [asyncio.create_task(reads("k", reader)) for _ in range(3)]
    await asyncio.sleep(0)
    reader.release.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError] * 3
    assert reader.calls == 1


async def test_a_cancelled_reader_leaves_the_others_to_read_for_themselves() -> None:
    reader = Reader()
    first, second = await reader_and_waiter(reader)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    reader.release.set()
    assert await second == "value"
    assert reader.calls == 2


async def test_a_waiter_cancelled_with_its_reader_stays_cancelled() -> None:
    reader = Reader()
    first, waiter = await reader_and_waiter(reader)
    first.cancel()
    waiter.cancel()
    async with asyncio.timeout(5):  # a waiter that went on to read would wait for ever
        for task in (first, waiter):
            with pytest.raises(asyncio.CancelledError):
                await task
    assert reader.calls == 1


async def test_a_cancelled_waiter_cancels_no_one_else() -> None:
    reader = Reader()
    first, waiter = await reader_and_waiter(reader)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    reader.release.set()
    assert await first == "value"
    assert reader.calls == 1


# -- the API's key lookups --------------------------------------------------------------------


@dataclass
class AuthState:
    """The two parts of ``AppState`` that ``_identify`` reads."""

    admin_token_hash: str = "admin-hash"
    key_reads: SharedReads[ApiKey | OperatorKey | None] = field(default_factory=SharedReads)


KEY = ApiKey("key_1", "ws_1", "ci", "hlk_abc", "hash-1", 0.0)


async def test_requests_missing_the_key_cache_together_read_the_key_once() -> None:
    state, cache, reads = AuthState(), KeyCache[ApiKey](ttl=5.0), 0
    gate = asyncio.Event()

    async def find(key_hash: str) -> ApiKey | None:
        nonlocal reads
        reads += 1
        await gate.wait()
        return KEY if key_hash == KEY.key_hash else None

    app_state = cast(AppState, state)
    callers = [asyncio.create_task(_identify(app_state, "hash-1", cache, find)) for _ in range(50)]
    await asyncio.sleep(0)
    gate.set()
    found = await asyncio.gather(*callers)
    assert reads == 1 and {p.workspace_id for p in found if p} == {"ws_1"} and all(found)
    assert cache.get("hash-1") == KEY  # remembered by the one read
    assert await _identify(app_state, "hash-1", cache, find) is not None and reads == 1


async def test_a_token_unknown_to_a_shared_read_is_read_again() -> None:
    state, cache = AuthState(), KeyCache[ApiKey](ttl=5.0)
    answers: list[ApiKey | None] = [None, KEY]  # the key is created during the first read

    async def find(key_hash: str) -> ApiKey | None:
        return answers.pop(0)

    assert await _identify(cast(AppState, state), "hash-1", cache, find) is not None
    assert answers == []
