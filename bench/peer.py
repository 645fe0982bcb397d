"""Running the Celery peer (``bench.celery_app``) against the sink and timing it.

Throughput is counted from the first ``apply_async`` to the last request arriving at the sink:
Celery stores no attempt, so the sink's log is its only record.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import redis

from bench.procs import cpu_seconds
from bench.sink import Sink
from bench.stack import Context

POOLS: dict[str, list[str]] = {
    "prefork-4": ["--pool", "prefork", "--concurrency", "4"],
    "prefork-8": ["--pool", "prefork", "--concurrency", "8"],
    "gevent-100": ["--pool", "gevent", "--concurrency", "100"],
}
BODY = orjson.dumps({"pad": "x" * 1000}).decode()


async def celery_run(
    ctx: Context, sink: Sink, pool: str, events: int, label: str
) -> dict[str, float]:
    """Deliveries per second of one Celery run with ``pool`` (see ``POOLS``), and the CPU time
    per delivery of the workers and of the publishing thread (not Redis's)."""
    from bench.celery_app import BROKER, deliver

    queue = f"hookline-bench-{uuid.uuid4().hex[:8]}"
    argv = [sys.executable, "-m", "celery", "-A", "bench.celery_app", "worker", "-Q", queue]
    argv += [*POOLS[pool], "--loglevel=WARNING", "--without-gossip", "--without-mingle"]
    worker = ctx.procs.start(f"celery-{pool}", argv)
    try:
        await _send(deliver, f"{sink.url}/warm-{label}/", 1, queue)
        await _wait_sink(sink, f"warm-{label}", 1, worker_alive=worker.alive, timeout=60)
        prefix = f"cel-{label}"
        cpu_before, started = cpu_seconds([worker.pid]), time.time()
        publish_cpu = await _send(deliver, f"{sink.url}/{prefix}/", events, queue)
        seen = await _wait_sink(
            sink, prefix, events, worker_alive=worker.alive, timeout=events / 50
        )
        last = max(a.at for a in sink.since(prefix))
        cpu = cpu_seconds([worker.pid]) - cpu_before + publish_cpu
    finally:
        await asyncio.to_thread(worker.stop, 60)
        redis.Redis.from_url(BROKER).delete(queue)
    # A task Celery lost is not counted as delivered (nor waited for): reported as "lost".
    rate = seen / (last - started)
    return {"rate": rate, "cpu_us": 1e6 * cpu / max(seen, 1), "lost": events - seen}


async def _send(task: Any, url: str, count: int, queue: str) -> float:
    """Publish ``count`` tasks from a thread; returns that thread's CPU seconds."""

    def send_all() -> float:
        began = time.thread_time()
        for seq in range(count):
            headers = {"Content-Type": "application/json", "X-Hookline-Event-Id": f"t{seq}"}
            task.apply_async((url, BODY, headers), queue=queue)
        return time.thread_time() - began

    return await asyncio.to_thread(send_all)


async def _wait_sink(
    sink: Sink, prefix: str, count: int, *, worker_alive: Callable[[], bool], timeout: float
) -> int:
    """How many of ``count`` requests arrived: all of them, or as many as had when nothing
    more arrived for 10 s (or the deadline passed)."""
    deadline = time.monotonic() + max(timeout, 60)
    seen, progress = 0, time.monotonic()
    while time.monotonic() < deadline:
        sink.poll()
        if sink.count(prefix) >= count:
            return count
        if sink.count(prefix) > seen:
            seen, progress = sink.count(prefix), time.monotonic()
        elif seen and time.monotonic() - progress > 10:
            break
        if not worker_alive():
            raise RuntimeError("the Celery worker exited")
        await asyncio.sleep(0.1)
    if not sink.count(prefix):
        raise TimeoutError(f"the sink saw none of {count} Celery deliveries")
    return sink.count(prefix)
