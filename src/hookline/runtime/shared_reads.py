"""Concurrent reads of one key sharing one call.

An API key's cache entry expires every few seconds (``hookline.domain.keys.KeyCache``); at
thousands of requests a second, every request that arrives before the first read of it is
back would otherwise read the same row again, each read queueing for the pool behind the
publishes (at 2,000 publishes/s, py-spy found ~5 % of the API's samples in those reads). With
``SharedReads`` the first caller reads and the others wait for its answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class SharedReads(Generic[T]):
    """``await reads(key, read)``: ``read()``'s answer, shared with every caller that asks for
    the same ``key`` while it runs. A failure is shared too; a reader cancelled mid-way lets
    the callers waiting on it read for themselves."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Future[T]] = {}

    async def __call__(self, key: str, read: Callable[[], Awaitable[T]]) -> T:
        shared = self._running.get(key)
        if shared is not None:
            try:
                return await asyncio.shield(shared)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not shared.cancelled() or (task is not None and task.cancelling()):
                    raise  # this caller was cancelled, not (only) the reader
            return await self(key, read)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        future.add_done_callback(retrieved)
        self._running[key] = future
        try:
            value = await read()
        except Exception as exc:
            future.set_exception(exc)
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._running[key]
        future.set_result(value)
        return value


def retrieved(future: asyncio.Future[Any]) -> None:
    """Marks an outcome seen: a failure nobody else waited for is not worth a warning."""
    if not future.cancelled():
        future.exception()
