"""Scenario 5: one event to 1,000 and to 10,000 webhooks; time until the last request arrives.

The webhooks are created through the API (8 requests at a time) and all point at the sink. Each
size gets one unmeasured warm-up event first: the first publish after a configuration change
rebuilds the routing snapshot, a cost paid once per change, not per event.

For scale, the bare aiohttp loop of the ceiling sends the same number of requests in the same run
(nothing stored; its 1 KB bodies are larger than the fan-out event's), split over as many
processes as the case has delivering processes, each at the worker's concurrency: one process
for the embedded worker and for one worker process, two for two. An absolute time in seconds
says as much about the host as about Hookline (this machine type's ceiling has ranged from 4,300
to 11,000 requests/s between days); the ratio to that loop much less. Each run also reports the
CPU time Hookline's processes spent per delivery (the publish included), which moves with the
host's moment as much as the time does.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.api import Workspace
from bench.options import Options
from bench.procs import cpu_seconds
from bench.report import Row
from bench.sink import Sink
from bench.stack import Context, Stack, parse_backend, start_stack, wait_attempts
from bench.stats import fmt, summarize
from bench.throughput import backend_name, ceiling_run

TARGET_SECONDS, TARGET_SIZE = 3.0, 10_000
CONCURRENCY = 200  # the worker's requests in flight (the stack's default)


async def one_event(stack: Stack, sink: Sink, ws: Workspace, size: int) -> dict[str, float]:
    before = await stack.db.attempts()
    mark = sink.poll()
    # Hookline's processes: the API's share (the publish) and the deliveries' CPU together.
    pids = [stack.server.pid, *(w.pid for w in stack.workers)]
    cpu = cpu_seconds(pids)
    started = time.time()
    event_id = await ws.publish("fanout.test", {"sent_at": started})
    accepted = time.time()
    deadline = time.monotonic() + 60 + size / 50
    arrivals: list[float] = []
    while time.monotonic() < deadline:
        sink.poll()
        arrivals = [a.at for a in sink.arrivals[mark:] if a.event_id == event_id]
        if len(arrivals) >= size:
            break
        await asyncio.sleep(0.05)
    await wait_attempts(stack, before + size, timeout=60)
    cpu = cpu_seconds(pids) - cpu
    recorded = float(await stack.db.scalar("SELECT MAX(updated_at) FROM deliveries"))
    return {
        "last_arrival": max(arrivals) - started if arrivals else float("nan"),
        "accepted": accepted - started,
        "recorded": recorded - started,
        "arrived": len(arrivals),
        "cpu_us": 1e6 * cpu / size,
    }


def processes(backend: str) -> int:
    """How many processes deliver: the embedded worker's one, or the worker processes."""
    return max(1, parse_backend(backend)[1])


async def bare_loop(sink: Sink, opts: Options, label: str, count: int, split: int) -> float:
    """Seconds until the last of ``count`` requests is answered, sent by ``split`` bare-loop
    processes at once (``count / split`` each, at the worker's concurrency)."""
    runs = await asyncio.gather(
        *(
            ceiling_run(sink, opts, f"{label}-{p}", count=count // split, concurrency=CONCURRENCY)
            for p in range(split)
        )
    )
    return max(r["seconds"] for r in runs)


async def run(ctx: Context, sink: Sink, opts: Options) -> tuple[list[Row], dict[str, Any]]:
    raw: dict[str, Any] = {"bare": {}}
    rows: list[Row] = []
    for split in sorted({processes(b) for b in opts.fanout_backends}):
        bare = raw["bare"][str(split)] = {}
        for size in sorted(opts.fanout_sizes):
            label = f"bare{split}-{size}"
            bare[str(size)] = [
                await bare_loop(sink, opts, f"{label}-{i}", size, split) for i in range(opts.runs)
            ]
            print(f"  bare loop, {size} requests in {split} process(es): {bare[str(size)]}")
    for backend in opts.fanout_backends:
        raw[backend] = await one_backend(ctx, sink, opts, backend)
        split = processes(backend)
        rows += _rows(raw[backend], backend_name(backend), raw["bare"][str(split)], split)
    return rows, raw


async def one_backend(ctx: Context, sink: Sink, opts: Options, backend: str) -> dict[str, Any]:
    env = {"HOOKLINE_LOG_LEVEL": "WARNING", **opts.extra}
    stack = await start_stack(
        ctx, backend, label=f"fanout-{backend}", concurrency=CONCURRENCY, env=env
    )
    raw: dict[str, Any] = {}
    try:
        ws = await stack.api.workspace("fanout")
        created = 0
        for size in sorted(opts.fanout_sizes):
            began = time.monotonic()
            await ws.webhooks(range(created, size), lambda i: f"{sink.url}/fan/{i}")
            print(f"  {size - created} webhooks created in {time.monotonic() - began:.0f}s")
            created = size
            await one_event(stack, sink, ws, size)  # warm-up
            raw[str(size)] = [await one_event(stack, sink, ws, size) for _ in range(opts.runs)]
            print(f"  {backend} {size}: {raw[str(size)]}", flush=True)
    finally:
        await stack.stop()
    return raw


def _rows(raw: dict[str, Any], name: str, bare: dict[str, list[float]], split: int) -> list[Row]:
    rows = []
    for size, runs in raw.items():
        last = summarize([r["last_arrival"] for r in runs])
        accepted = summarize([r["accepted"] for r in runs]).median
        recorded = summarize([r["recorded"] for r in runs]).median
        lost = sum(int(size) - r["arrived"] for r in runs)
        note = f"202 after {fmt(accepted, 2)} s; all recorded after {fmt(recorded, 2)} s"
        note += f"; CPU {fmt(summarize([r['cpu_us'] for r in runs]).median)} µs/delivery"
        if bare.get(size):
            loop = summarize(bare[size]).median
            where = "" if split == 1 else f" in {split} processes"
            ratio = fmt(last.median / loop, 2)
            note += f"; bare loop{where} {fmt(loop, 2)} s for as many requests ({ratio}x)"
        note += f"; {lost} missing" if lost else ""
        target = int(size) == TARGET_SIZE
        met = last.median <= TARGET_SECONDS and not lost if target else None
        limit = f"≤ {TARGET_SECONDS:g} s" if target else ""
        rows.append(
            Row(
                "fan-out",
                f"{name}, 1 event → {int(size):,} webhooks",
                last,
                "s",
                2,
                note,
                limit,
                met,
            )
        )
    return rows
