"""Waking the worker when a delivery it put off falls due, so that a retry due at *t* is
attempted at *t*, not at the next poll.

A failed attempt's retry, and a delivery given back because its rate limit would make it wait
too long, are stored with the time they are due. Nothing else tells a worker when that time
comes: a notification means "new work now", and without one the worker would find the
delivery at its next poll, up to ``HOOKLINE_POLL_INTERVAL`` late. The worker that put the
delivery off therefore keeps its due time here. One timer, for the earliest, wakes it just
after that time (``wake``: the store's local wake-up, as new work does), and the worker claims
what is due. On PostgreSQL, any worker may take that delivery; this one is sure to look.

Due times are kept in a heap, at most ``limit`` of them (beyond that, new ones are not kept:
their deliveries are still found by polling), and a time within 5 ms of the next wake-up shares
it.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Callable
from typing import Final

#: A wake-up comes this long after the due time, so that the claim's clock has passed it.
_AFTER: Final = 0.002
#: Due times closer than this to the next one already kept share its wake-up.
_SHARED: Final = 0.005


class DueWakeups:
    """The due times of deliveries this worker put off, and the timer of the earliest."""

    def __init__(self, wake: Callable[[], None], *, limit: int = 10_000) -> None:
        self._wake = wake
        self._limit = limit
        self._due: list[float] = []  # a heap of wall-clock times
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = float("inf")

    def __len__(self) -> int:
        return len(self._due)

    def add(self, due: float) -> None:
        """Wake the worker just after ``due`` (Unix time), unless a wake-up already comes
        then."""
        if len(self._due) >= self._limit or abs(due - self._timer_at) < _SHARED:
            return
        heapq.heappush(self._due, due)
        if due < self._timer_at:
            self._arm()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at, self._due = None, float("inf"), []

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if not self._due:
            self._timer, self._timer_at = None, float("inf")
            return
        self._timer_at = self._due[0]
        delay = max(0.0, self._timer_at - time.time() + _AFTER)
        self._timer = asyncio.get_running_loop().call_later(delay, self._fire)

    def _fire(self) -> None:
        now = time.time()
        while self._due and self._due[0] <= now:
            heapq.heappop(self._due)
        self._timer = None
        self._wake()
        self._arm()
