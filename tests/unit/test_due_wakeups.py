"""The worker's own wake-ups for deliveries it put off: one timer for the earliest due time,
each due time woken once just after it, close() cancelling what is left."""

from __future__ import annotations

import asyncio
import time

from hookline.delivery.due_wakeups import DueWakeups


async def test_each_due_time_wakes_once_just_after_it_earliest_first() -> None:
    woken: list[float] = []
    wakeups = DueWakeups(lambda: woken.append(time.time()))
    now = time.time()
    for delay in (0.15, 0.05, 0.10, 0.101):  # the last shares the 0.10 wake-up
        wakeups.add(now + delay)
    await asyncio.sleep(0.25)
    assert len(woken) == 3
    for at, due in zip(woken, (0.05, 0.10, 0.15), strict=True):
        assert 0 <= at - (now + due) < 0.05
    assert len(wakeups) == 0


async def test_close_cancels_what_is_left_and_a_full_heap_keeps_no_more() -> None:
    woken: list[float] = []
    wakeups = DueWakeups(lambda: woken.append(time.time()), limit=2)
    now = time.time()
    for delay in (0.05, 0.06, 0.07):
        wakeups.add(now + delay)
    assert len(wakeups) == 2
    wakeups.close()
    await asyncio.sleep(0.1)
    assert woken == []
