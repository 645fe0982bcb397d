"""How the worker schedules deliveries: FIFO order, isolation of a slow endpoint, rate limits."""

from __future__ import annotations

import asyncio
import json
from itertools import pairwise

import pytest

from tests.conftest import Receiver, Service, start_receiver
from tests.integration.engine_helpers import Api, running_service, workspace
from tests.polling import eventually

# Bounds on how soon deliveries arrive: measured with no other test competing for the CPU.
pytestmark = pytest.mark.alone


def _failures(n: int) -> int:
    """How many times the receiver refuses event ``n`` before accepting it."""
    return 2 if n % 10 == 4 else 1 if n % 3 == 1 else 0


async def test_fifo_delivers_in_publish_order_one_at_a_time(
    service: Service, receiver: Receiver
) -> None:
    api = await workspace(service)
    hook = await api.hook(receiver.url, ordering="fifo", retry_schedule=[0])
    receiver.delay = 0.02
    expected = [n for n in range(30) for _ in range(_failures(n) + 1)]
    # One request at a time, so the answers can be queued in the order they will be asked for:
    # a request is refused when the next one is for the same event.
    receiver.statuses = [500 if n == after else 200 for n, after in pairwise(expected)]
    for n in range(30):
        await api.publish({"n": n})
    received = await receiver.wait_for(len(expected), timeout=20)
    assert [json.loads(r.body)["n"] for r in received] == expected
    # Each request is answered `delay` after it arrives; a second one in flight would arrive
    # inside that window.
    gaps = [later.at - earlier.at for earlier, later in pairwise(received)]
    assert min(gaps) >= receiver.delay * 0.9
    listed = await eventually(
        lambda: api.ok("GET", f"/deliveries?webhook_id={hook['id']}"),
        lambda page: all(d["status"] == "succeeded" for d in page["data"]),
    )
    assert sum(d["attempt_count"] for d in listed["data"]) == len(expected)


async def test_a_slow_endpoint_does_not_delay_a_fast_one(database_url: str) -> None:
    slow, slow_runner = await start_receiver()
    fast, fast_runner = await start_receiver()
    slow.delay = 3.0
    try:
        # A backlog for the slow endpoint, waiting before the worker starts: the first claim
        # sees all of it at once.
        async with running_service(database_url, worker=False) as svc:
            api = await workspace(svc)
            await api.hook(slow.url, name="slow", events=["slow.*"])
            await api.hook(fast.url, name="fast", events=["fast.*"])
            for n in range(10):
                await api.publish({"n": n}, type="slow.tick")
        settings = {"per_webhook_concurrency": 2, "worker_concurrency": 4}
        async with running_service(database_url, **settings) as svc:
            api = Api(svc, api.ws, api.key)
            await slow.wait_for(1)
            started = asyncio.get_running_loop().time()
            for n in range(10):
                await api.publish({"n": n}, type="fast.tick")
            await fast.wait_for(10, timeout=5)
            assert max(r.at for r in fast.requests) - started < 1.0
            # The per-webhook cap holds (the slow endpoint starts below it: slow start, see
            # hookline.delivery.scheduler, and has not answered yet to earn more).
            assert 1 <= len(slow.requests) <= 2
    finally:
        await fast_runner.cleanup()
        await slow_runner.cleanup()


async def test_rate_limit_spreads_requests(database_url: str, receiver: Receiver) -> None:
    """A backlog (here 25 events at 5/s) larger than the worker's local wait window is sent
    over time, at the configured rate."""
    async with running_service(database_url, worker=False) as svc:
        api = await workspace(svc)
        await api.hook(receiver.url, rate_limit_per_second=5)
        for n in range(25):
            await api.publish({"n": n})
    async with running_service(database_url):
        received = await receiver.wait_for(25, timeout=15)
    times = sorted(r.at for r in received)
    # 24 gaps of 0.2 s is 4.8 s; unthrottled it would be well under a second. The margin
    # absorbs arrival times stamped late on a loaded machine.
    assert times[-1] - times[0] >= 4.0
    # Never more than the rate allows in any second (one extra for the window's edges).
    assert all(sum(1 for t in times if start <= t < start + 1) <= 6 for start in times)


async def test_endpoints_that_never_answer_cannot_take_the_whole_worker(
    database_url: str,
) -> None:
    """Four webhooks whose endpoint never answers, each with a backlog, and one healthy one,
    on a worker with 8 slots and a per-webhook cap of 4: without adaptive caps the dead ones
    could hold all 8 slots until each attempt times out."""
    dead, dead_runner = await start_receiver()
    fast, fast_runner = await start_receiver()
    dead.delay = 3.0  # past the 1 s timeout: never answered in time
    try:
        async with running_service(database_url, worker=False) as svc:
            api = await workspace(svc)
            for n in range(4):
                await api.hook(f"{dead.url}/{n}", name=f"dead-{n}", events=["dead.*"],
                               timeout_seconds=1.0, retry_schedule=[0, 0, 0, 0])  # fmt: skip
            await api.hook(fast.url, name="fast", events=["fast.*"])
            for n in range(10):
                await api.publish({"n": n}, type="dead.tick")
        settings = {"per_webhook_concurrency": 4, "worker_concurrency": 8}
        async with running_service(database_url, **settings) as svc:
            api = Api(svc, api.ws, api.key)
            await dead.wait_for(4)
            # Past the first timeouts: the dead webhooks are known to be failing now.
            await asyncio.sleep(1.5)
            seen = len(dead.requests)
            loop = asyncio.get_running_loop()
            started = loop.time()
            published: dict[int, float] = {}
            for n in range(40):
                await api.publish({"n": n}, type="fast.tick")
                published[n] = loop.time()
            await fast.wait_for(40, timeout=5)
            # Each fast delivery arrives well within the dead endpoints' 1 s timeout of its
            # publish: none waited for a slot a dead webhook held. (Measured per event, so a
            # slow publisher on a busy machine does not count against the worker.)
            lags = [r.at - published[json.loads(r.body)["n"]] for r in fast.requests]
            assert max(lags) < 0.8, sorted(lags)[-5:]
            # Failing webhooks share a quarter of the worker's 8 slots: at most 2 requests
            # to them per 1 s timeout from here on (a few more may have been in flight).
            elapsed = asyncio.get_running_loop().time() - started
            assert len(dead.requests) - seen <= 2 * (elapsed + 1) + 4
    finally:
        await fast_runner.cleanup()
        await dead_runner.cleanup()
