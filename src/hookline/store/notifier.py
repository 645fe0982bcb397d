"""Coalesced wake-ups for workers of other processes (PostgreSQL's ``NOTIFY``; see
:mod:`hookline.store.postgres` for why they are sent after commit, never inside a transaction)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress

log = logging.getLogger(__name__)

#: Seconds after one NOTIFY before the next may go; wake-ups marked meanwhile are merged.
NOTIFY_INTERVAL = 0.005
#: At most one warning per this many seconds when NOTIFYs fail (the database is down).
_FAILURE_LOG_SECONDS = 60.0


class Notifier:
    """Coalesced wake-ups: at most one ``send`` per ``interval`` seconds, from a background task.

    ``mark()`` never waits and never fails: it is called after a commit, which must not be
    slowed or undone by the wake-up. The first mark after a quiet spell is sent at once; marks
    arriving while a send is in flight or during the interval after it are merged into one
    more send. A failed send is logged (rate-limited) and forgotten: workers also poll.
    """

    def __init__(self, send: Callable[[], Awaitable[None]], *, interval: float) -> None:
        self._send = send
        self._interval = interval
        self._pending = False
        self._closing = False
        self._wake = asyncio.Event()
        self._closed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failures = 0
        self._logged_at = -_FAILURE_LOG_SECONDS
        self.sent = 0

    def mark(self) -> None:
        self._pending = True
        if self._closing:
            return
        if self._task is None:  # started on first use: a worker-only process never needs it
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="hookline-notifier"
            )
        self._wake.set()

    async def close(self, timeout: float = 2.0) -> None:
        """Send a wake-up still pending (within ``timeout``), then stop the task."""
        self._closing = True
        task, self._task = self._task, None
        if task is None:
            return
        self._closed.set()
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            if not self._pending:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            self._pending = False
            await self._send_once()
            with suppress(TimeoutError):  # the interval, cut short by close()
                await asyncio.wait_for(self._closed.wait(), self._interval)

    async def _send_once(self) -> None:
        try:
            await self._send()
        except Exception as exc:  # a wake-up must never take the process down
            self._failures += 1
            now = time.monotonic()
            if now - self._logged_at >= _FAILURE_LOG_SECONDS:
                log.warning(
                    "cannot NOTIFY workers (%d failed since the last report; they still poll): %s",
                    self._failures,
                    exc,
                )
                self._logged_at, self._failures = now, 0
        else:
            self.sent += 1
