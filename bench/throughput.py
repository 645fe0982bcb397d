"""Scenarios 1-3: throughput to one webhook, against the bare-loop ceiling and the Celery peer.

Each repetition runs every system once, back to back, so that the ratios compare runs made
under the same conditions; the ratio reported is the median of the per-repetition ratios.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from bench.api import padded, publish_many
from bench.bulk import load_backlog
from bench.options import Options
from bench.peer import celery_run
from bench.procs import cpu_seconds
from bench.report import Row
from bench.sink import Sink
from bench.stack import (
    Context,
    Stack,
    parse_backend,
    start_stack,
    start_workers,
    wait_attempts,
)
from bench.stats import fmt, ratio, summarize

NAMES = {
    "sqlite": "SQLite, embedded worker",
    "sqlite1": "SQLite, 1 worker process",
    "pg1": "PostgreSQL, 1 worker",
}
TARGETS = {"sqlite": 0.50, "sqlite1": 0.50, "sqlite2": 0.50, "pg2": 0.40}
PEER_TARGET = 5.0


def backend_name(backend: str) -> str:
    if backend in NAMES:
        return NAMES[backend]
    if backend.startswith("sqlite"):
        return f"SQLite, {backend[6:]} worker processes"
    return f"PostgreSQL, {backend[2:]} workers"


Detach = Callable[[], Awaitable[None]]


async def hookline_run(
    ctx: Context,
    sink: Sink,
    backend: str,
    opts: Options,
    label: str,
    attach: Callable[[Stack], Awaitable[Detach]] | None = None,
) -> dict[str, Any]:
    """Publish ``opts.events`` to one webhook; deliveries/s until the last attempt is stored.

    ``attach`` (the profiler) is called once the processes run, its result before they stop.
    """
    c = str(opts.concurrency)
    env = {"HOOKLINE_PER_WEBHOOK_CONCURRENCY": c, "HOOKLINE_LOG_LEVEL": "WARNING", **opts.extra}
    stack = await start_stack(ctx, backend, label=label, concurrency=opts.concurrency, env=env)
    detach = None if attach is None else await attach(stack)
    try:
        ws = await stack.api.workspace("bench")
        await ws.webhook("sink", f"{sink.url}/{label}/")
        pids = [proc.pid for proc in [stack.server, *stack.workers]]
        cpu_before = cpu_seconds(pids)
        published = await publish_many(
            ws,
            opts.events,
            concurrency=_publishers(opts),
            payload=padded(),
            batch=opts.publish_batch,
        )
        seen = await wait_attempts(stack, len(published.sent), timeout=60 + opts.events / 50)
        done = float(await stack.db.scalar("SELECT MAX(updated_at) FROM deliveries"))
        ok = await stack.db.scalar("SELECT COUNT(*) FROM deliveries WHERE status = 'succeeded'")
        cpu = cpu_seconds(pids) - cpu_before
    finally:
        if detach is not None:
            await detach()
        await stack.stop()
    return {
        "rate": len(published.sent) / (done - published.first),
        "publish_rate": published.rate,
        "publish_errors": published.errors,
        "attempts": seen,
        "succeeded": int(ok),
        "cpu_us": 1e6 * cpu / max(seen, 1),
    }


async def drain_run(
    ctx: Context,
    sink: Sink,
    backend: str,
    opts: Options,
    label: str,
    attach: Callable[[Stack], Awaitable[Detach]] | None = None,
) -> float:
    """The engine alone: the worker(s) started and ready, then ``opts.events`` deliveries
    bulk-loaded in one transaction; deliveries/s from the first attempt to the last one stored.
    No API, no publisher."""
    kind, workers = parse_backend(backend)
    detach: Detach | None = None
    c = str(opts.concurrency)
    env = {"HOOKLINE_PER_WEBHOOK_CONCURRENCY": c, "HOOKLINE_LOG_LEVEL": "WARNING", **opts.extra}
    api_only = "sqlite0" if kind == "sqlite" else "pg0"
    stack = await start_stack(ctx, api_only, label=label, concurrency=opts.concurrency, env=env)
    try:
        ws = await stack.api.workspace("bench")
        webhook = await ws.webhook("sink", f"{sink.url}/{label}/")
        await start_workers(
            ctx, stack, max(workers, 1), label=label, concurrency=opts.concurrency, env=env,
            ready=True,
        )  # fmt: skip
        if attach is not None:
            detach = await attach(stack)
        await load_backlog(stack.db, ws.id, [webhook], opts.events, pad=1000)
        await wait_attempts(stack, opts.events, timeout=60 + opts.events / 50)
        first = float(await stack.db.scalar("SELECT MIN(started_at) FROM attempts"))
        done = float(await stack.db.scalar("SELECT MAX(updated_at) FROM deliveries"))
    finally:
        if detach is not None:
            await detach()
        await stack.stop()
    return opts.events / (done - first)


async def ceiling_run(
    sink: Sink,
    opts: Options,
    label: str,
    *,
    count: int | None = None,
    concurrency: int | None = None,
) -> dict[str, float]:
    """The bare loop's run: ``count`` requests (default: the throughput events) at
    ``concurrency`` (default: the throughput concurrency)."""
    n = opts.events if count is None else count
    argv = [sys.executable, "-m", "bench.ceiling", f"{sink.url}/{label}/", str(n)]
    argv.append(str(opts.concurrency if concurrency is None else concurrency))
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    found = orjson.loads(out)
    return {
        "rate": n / found["seconds"],
        "cpu_us": 1e6 * found["cpu"] / n,
        "seconds": found["seconds"],
    }


async def run(ctx: Context, sink: Sink, opts: Options) -> tuple[list[Row], dict[str, Any]]:
    tuning: dict[str, dict[str, float]] = {}
    for pool in opts.celery_pools:
        n = max(1_000, opts.events // 5)
        tuning[pool] = found = await celery_run(ctx, sink, pool, n, f"tune-{pool}")
        print(f"  celery {pool}: {found['rate']:,.0f} deliveries/s ({n} events)", flush=True)
    best = max(tuning, key=lambda pool: tuning[pool]["rate"])
    runs: dict[str, list[dict[str, Any]]] = {b: [] for b in opts.backends}
    # The drain runs workers only: "sqlite" and "sqlite1" drain alike (one worker process).
    drained_as = {b: _drain_backend(b) for b in opts.backends}
    drains: dict[str, list[float]] = {b: [] for b in dict.fromkeys(drained_as.values())}
    ceiling: list[dict[str, float]] = []
    ceiling_runs: list[list[dict[str, float]]] = []
    celery: list[dict[str, float]] = []
    for i in range(opts.runs):
        # The ceiling is measured before and after the repetition's Hookline runs and the two
        # averaged: the machine's speed drifts over minutes (other tenants of the host), and a
        # single ceiling run minutes away from a Hookline run skewed its ratio by ±15 %.
        before = await ceiling_run(sink, opts, f"ceiling-{i}a")
        for backend in opts.backends:
            runs[backend].append(await hookline_run(ctx, sink, backend, opts, f"tp-{backend}-{i}"))
            drain = drains[drained_as[backend]]
            if len(drain) <= i:
                drain.append(await drain_run(ctx, sink, backend, opts, f"dr-{backend}-{i}"))
            drained = f"drain {drain[-1]:,.0f}/s"
            print(f"  {backend} run {i}: {_brief(runs[backend][-1])}; {drained}", flush=True)
        after = await ceiling_run(sink, opts, f"ceiling-{i}b")
        ceiling.append({k: (before[k] + after[k]) / 2 for k in before})
        ceiling_runs.append([before, after])
        celery.append(await celery_run(ctx, sink, best, opts.events, f"{best}-{i}"))
        print(f"  ceiling {_brief(ceiling[-1])}; celery {_brief(celery[-1])}", flush=True)
    raw = {"runs": runs, "drain": drains, "ceiling": ceiling, "celery": celery}
    raw["ceiling_runs"] = ceiling_runs
    raw["celery_tuning"] = tuning
    return _rows(runs, ceiling, celery, best, opts) + _drain_rows(drains, ceiling, opts), raw


def _publishers(opts: Options) -> int:
    """Requests in flight while publishing: batches carry many events each, so a few suffice
    (as many as for single events would only queue whole batches behind one another)."""
    return opts.publishers if opts.publish_batch <= 1 else max(1, min(opts.publishers, 4))


def _brief(found: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:,.0f}" for k, v in found.items())


def _rows(
    runs: dict[str, list[dict[str, Any]]],
    ceiling: list[dict[str, float]],
    celery: list[dict[str, float]],
    best: str,
    opts: Options,
) -> list[Row]:
    n = f"{opts.events:,} events, {opts.concurrency} in flight"
    ceiling_rates, celery_rates = [c["rate"] for c in ceiling], [c["rate"] for c in celery]
    rows = [
        Row("ceiling", f"bare aiohttp+uvloop, {n}", summarize(ceiling_rates), "req/s", 0,
            _cpu(ceiling)),
        Row("peer", f"Celery+Redis+requests, {best}", summarize(celery_rates), "deliveries/s", 0,
            _cpu(celery) + _lost(celery)),
    ]  # fmt: skip
    for backend, found in runs.items():
        rates = [r["rate"] for r in found]
        publish = summarize([r["publish_rate"] for r in found])
        failed = sum(r["attempts"] - r["succeeded"] for r in found)
        note = f"publish {fmt(publish.median)} ev/s; {_cpu(found)}"
        note += f"; {failed} not 2xx" if failed else ""
        name = backend_name(backend)
        rows.append(Row("throughput", f"{name}, {n}", summarize(rates), "deliveries/s", 0, note))
        vs_ceiling = summarize([ratio(r, c) for r, c in zip(rates, ceiling_rates, strict=True)])
        rows.append(_ratio_row("÷ ceiling", name, vs_ceiling, TARGETS.get(backend)))
        vs_peer = summarize([ratio(r, c) for r, c in zip(rates, celery_rates, strict=True)])
        rows.append(_ratio_row("÷ Celery", name, vs_peer, PEER_TARGET))
    return rows


def _drain_backend(backend: str) -> str:
    kind, workers = parse_backend(backend)
    return f"{'sqlite' if kind == 'sqlite' else 'pg'}{max(workers, 1)}"


def _drain_rows(
    drains: dict[str, list[float]], ceiling: list[dict[str, float]], opts: Options
) -> list[Row]:
    rows = []
    for backend, rates in drains.items():
        name = backend_name(backend)
        ratios = summarize([ratio(r, c["rate"]) for r, c in zip(rates, ceiling, strict=True)])
        note = f"{fmt(ratios.median, 2)}x ceiling (engine only: no API, no publisher)"
        case = f"{name}, {opts.events:,} pending"
        rows.append(Row("drain", case, summarize(rates), "deliveries/s", 0, note))
    return rows


def _lost(found: list[dict[str, Any]]) -> str:
    lost = sum(int(r.get("lost", 0)) for r in found)
    return f"; {lost} deliveries lost" if lost else ""


def _cpu(found: list[dict[str, Any]]) -> str:
    return f"CPU {fmt(summarize([r['cpu_us'] for r in found]).median)} µs/delivery"


def _ratio_row(scenario: str, case: str, value: Any, target: float | None) -> Row:
    if target is None:
        return Row(scenario, case, value, "x", 2)
    met = value.median >= target
    return Row(scenario, case, value, "x", 2, target=f"≥ {target:g}x", met=met)
