"""Scenario 6: 100 healthy endpoints and 10 that never answer.

Every event goes to every webhook. Healthy throughput (healthy deliveries / time from the first
publish to the last healthy arrival) is compared with a run without the dead endpoints. The
dead ones accept TCP connections (a listening socket nobody accepts from) and never answer, so
each of their attempts holds a slot until ``timeout_seconds``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from bench.api import publish_many
from bench.options import Options
from bench.procs import BlackHole
from bench.report import Row
from bench.sink import Sink
from bench.stack import Context, start_stack
from bench.stats import ratio, summarize

HEALTHY, DEAD, TARGET = 100, 10, 0.90
# (label, dead endpoints, per-webhook cap or None for the default)
CASES: tuple[tuple[str, int, int | None], ...] = (
    ("all healthy", 0, None),
    ("10 dead", DEAD, None),
    ("10 dead, per-webhook cap 5", DEAD, 5),
)


async def one_case(
    ctx: Context, sink: Sink, hole: BlackHole, opts: Options, case: tuple[str, int, int | None]
) -> float:
    _, dead, cap = case
    label = f"iso-{uuid.uuid4().hex[:8]}"
    env = {"HOOKLINE_LOG_LEVEL": "WARNING", **opts.extra}
    if cap is not None:
        env["HOOKLINE_PER_WEBHOOK_CONCURRENCY"] = str(cap)
    stack = await start_stack(ctx, "sqlite", label=label, env=env)
    try:
        ws = await stack.api.workspace("isolation")
        timeout = opts.isolation_timeout
        healthy_url = f"{sink.url}/{label}/"
        await ws.webhooks(range(HEALTHY), lambda i: f"{healthy_url}{i}", timeout_seconds=timeout)
        dead_url = f"http://127.0.0.1:{hole.port}/dead/"
        await ws.webhooks(range(dead), lambda i: dead_url, prefix="dead", timeout_seconds=timeout)
        published = await publish_many(ws, opts.isolation_events, concurrency=8, payload=_small)
        expected = HEALTHY * len(published.sent)
        deadline = time.monotonic() + 120 + expected / 50
        while time.monotonic() < deadline and sink.count(label) < expected:
            await asyncio.sleep(0.1)
            sink.poll()
        last = max(a.at for a in sink.since(label))
        return sink.count(label) / (last - published.first)
    finally:
        await stack.stop()


def _small(seq: int, sent_at: float) -> Any:
    return {"seq": seq, "sent_at": sent_at}


async def run(ctx: Context, sink: Sink, opts: Options) -> tuple[list[Row], dict[str, Any]]:
    hole = BlackHole()
    raw: dict[str, list[float]] = {name: [] for name, _, _ in CASES}
    try:
        for _ in range(opts.runs):
            for case in CASES:
                raw[case[0]].append(await one_case(ctx, sink, hole, opts, case))
                print(f"  {case[0]}: {raw[case[0]][-1]:,.0f} healthy deliveries/s", flush=True)
    finally:
        hole.close()
    return _rows(raw, opts), dict(raw)


def _rows(raw: dict[str, list[float]], opts: Options) -> list[Row]:
    base = raw[CASES[0][0]]
    n = f"{HEALTHY} healthy webhooks x {opts.isolation_events} events"
    rows = [Row("isolation", f"{n}, all healthy", summarize(base), "deliveries/s")]
    for name, _, cap in CASES[1:]:
        rates = summarize(raw[name])
        ratios = summarize([ratio(r, b) for r, b in zip(raw[name], base, strict=True)])
        note = f"{rates.median:,.0f} healthy deliveries/s"
        target = f"≥ {TARGET:g}x" if cap is None else ""
        met = ratios.median >= TARGET if cap is None else None
        rows.append(Row("isolation", f"{name} ({opts.isolation_timeout:g} s timeout) ÷ healthy",
                        ratios, "x", 2, note, target, met))  # fmt: skip
    return rows
