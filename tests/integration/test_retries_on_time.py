"""A retry due at *t* is attempted at *t*, not at the next poll: the worker that scheduled it
wakes itself then (``delivery.due_wakeups``). Polling is set to 5 s here, so an attempt found by
polling would come seconds late. So would a delivery paced by its rate limit beyond the
worker's two-second local wait, which is given back until its turn."""

from __future__ import annotations

from itertools import pairwise

from tests.conftest import Receiver, start_receiver
from tests.integration.engine_helpers import running_service, workspace

SLOW_POLL = {"poll_interval": 5.0}


async def test_each_retry_comes_on_its_schedule(database_url: str) -> None:
    receiver, runner = await start_receiver()
    receiver.status = 500
    try:
        async with running_service(database_url, **SLOW_POLL) as svc:
            api = await workspace(svc)
            await api.hook(receiver.url, retry_schedule=[1, 1, 1], max_attempts=4)
            await api.publish()
            await receiver.wait_for(4, timeout=8)
    finally:
        await runner.cleanup()
    gaps = _gaps(receiver)
    # Each delay is 1 s with the schedule's ±10 % jitter; on time means within 0.1 s after.
    assert all(0.9 <= gap <= 1.2 for gap in gaps), gaps


async def test_a_delivery_held_for_its_rate_goes_out_on_its_turn(database_url: str) -> None:
    receiver, runner = await start_receiver()
    try:
        async with running_service(database_url, **SLOW_POLL) as svc:
            api = await workspace(svc)
            await api.hook(receiver.url, rate_limit_per_second=0.25)
            await api.publish({"n": 1})
            await api.publish({"n": 2})
            await receiver.wait_for(2, timeout=8)
    finally:
        await runner.cleanup()
    [gap] = _gaps(receiver)
    assert 3.9 <= gap <= 4.2, gap  # one request per 4 s: the second waited for its turn only


def _gaps(receiver: Receiver) -> list[float]:
    times = [r.at for r in receiver.requests]
    return [round(b - a, 3) for a, b in pairwise(times)]
