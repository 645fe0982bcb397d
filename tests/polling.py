"""Waiting in a test for something that happens on its own time: a delivery settling, a request
arriving, a worker listening.

A fixed sleep either wastes time or, on a slow machine, is too short; these poll instead, as
fast as the thing happens, and fail after a deadline saying what was awaited and the last value
seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
INTERVAL = 0.05


async def eventually(
    fetch: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    timeout: float = 10.0,
    *,
    what: str = "the condition",
    interval: float = INTERVAL,
) -> T:
    """Fetch until ``done`` holds of the value; return that value. Fail after ``timeout``
    seconds with the last value fetched."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await fetch()
        if done(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(interval)


async def until(
    condition: Callable[[], bool | Awaitable[bool]],
    timeout: float = 10.0,
    *,
    what: str = "the condition",
    interval: float = INTERVAL,
) -> None:
    """Wait until ``condition()`` (plain or awaitable) is true; fail after ``timeout`` seconds."""

    async def check() -> bool:
        found = condition()
        return found if isinstance(found, bool) else await found

    await eventually(check, bool, timeout, what=what, interval=interval)
