"""Scenarios 7 and 8: claim time and ingest rate with a small and a huge backlog, and the
worker's peak memory while it works through the huge one.

Per backend and size: ``serve --no-worker`` on a fresh database, 100 backlog webhooks and one
ingest webhook through the API, the backlog bulk-loaded with SQL (then ANALYZE), then
1. ``store.queue.claim`` (200 deliveries, as the worker asks) timed in this process, each claim
   given back with ``release`` so the next one sees the same backlog (PostgreSQL: again after a full
   ``ANALYZE``, which the small webhooks table otherwise lacks on a young install);
2. the ingest rate: events published through the API on top of the backlog (no worker);
3. one ``hookline worker`` for ``--growth-window`` seconds, its RSS sampled every 100 ms.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.api import padded, publish_many
from bench.bulk import load_backlog
from bench.db import Db
from bench.options import Options
from bench.procs import RssSampler, hookline_argv
from bench.report import Row
from bench.sink import Sink
from bench.stack import LOOPBACK, Context, new_db, start_stack
from bench.stats import ratio, summarize
from hookline.settings import Settings
from hookline.store import open_store

CLAIMS_PER_RUN, CLAIM_BATCH, WEBHOOKS = 3, 200, 100
CLAIM_TARGET, RSS_TARGET_MB = 2.0, 300.0
NAMES = {"sqlite": "SQLite", "pg1": "PostgreSQL"}


async def claim_times(db: Db, count: int) -> list[float]:
    """Milliseconds per ``claim`` of ``CLAIM_BATCH`` deliveries (each batch released again)."""
    store = await open_store(Settings(database_url=db.url))
    found = []
    try:
        for _ in range(count):
            began = time.perf_counter()
            claimed = await store.queue.claim(
                "bench", limit=CLAIM_BATCH, lease_seconds=60, exclude=[], now=time.time()
            )
            found.append(1000 * (time.perf_counter() - began))
            if len(claimed) != CLAIM_BATCH:
                raise RuntimeError(f"claim returned {len(claimed)} deliveries")
            await store.queue.release([c.delivery.id for c in claimed], not_before=time.time())
    finally:
        await store.close()
    return found


async def worker_window(ctx: Context, db: Db, opts: Options) -> dict[str, float]:
    before = await db.attempts()
    argv = hookline_argv("worker", "--database-url", db.url, "--allowed-networks", LOOPBACK)
    env = {"HOOKLINE_LOG_LEVEL": "WARNING", **opts.extra}
    worker = ctx.procs.start("worker-growth", argv, env)
    try:
        with RssSampler(worker.pid) as rss:
            await asyncio.sleep(opts.growth_window)
    finally:
        await asyncio.to_thread(worker.stop, 60)
    done = await db.attempts() - before
    return {"peak_rss_mb": rss.peak / 2**20, "delivered_per_s": done / opts.growth_window}


async def one_size(
    ctx: Context, sink: Sink, opts: Options, backend: str, size: int
) -> dict[str, Any]:
    api_only = "sqlite0" if backend == "sqlite" else "pg0"
    db = await new_db(ctx, api_only, f"growth-{size}")
    env = {"HOOKLINE_LOG_LEVEL": "WARNING", **opts.extra}
    stack = await start_stack(ctx, api_only, label=f"growth-{backend}-{size}", db=db, env=env)
    try:
        ws = await stack.api.workspace("growth")
        ids = [await ws.webhook(f"b{i}", f"{sink.url}/growth/{i}", events=["backlog.*"])
               for i in range(WEBHOOKS)]  # fmt: skip
        await ws.webhook("ingest", f"{sink.url}/ingest/", events=["ingest.*"])
        load_seconds = await load_backlog(db, ws.id, ids, size)
        print(f"  {backend} {size:,}: loaded in {load_seconds:.0f}s", flush=True)
        claims = await claim_times(db, CLAIMS_PER_RUN * opts.runs)
        analyzed: list[float] = []
        if not db.is_sqlite:
            # The load analyzed events and deliveries; PostgreSQL's autovacuum analyzes the
            # small webhooks table only after 50+ changed rows, so a young install runs the
            # claim without statistics on it. Measured both ways.
            await db.execute("ANALYZE")
            analyzed = await claim_times(db, CLAIMS_PER_RUN * opts.runs)
        ingest = []
        for _ in range(opts.runs):
            published = await publish_many(
                ws, opts.growth_ingest, concurrency=opts.publishers, payload=padded(),
                type="ingest.event",
            )  # fmt: skip
            ingest.append(published.rate)
        memory = await worker_window(ctx, db, opts)
    finally:
        await stack.stop()
    found = {"load_seconds": load_seconds, "claim_ms": claims, "ingest": ingest, **memory}
    found["claim_ms_analyzed"] = analyzed
    print(f"  {backend} {size:,}: {found}", flush=True)
    return found


async def run(ctx: Context, sink: Sink, opts: Options) -> tuple[list[Row], dict[str, Any]]:
    raw: dict[str, dict[str, Any]] = {}
    for backend in opts.growth_backends:
        raw[backend] = {}
        for size in opts.growth_sizes:
            raw[backend][str(size)] = await one_size(ctx, sink, opts, backend, size)
    return _rows(raw), raw


def _rows(raw: dict[str, dict[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    for backend, sizes in raw.items():
        name = NAMES.get(backend, backend)
        small = min(sizes, key=int)
        base = summarize(sizes[small]["claim_ms"]).median
        for size, found in sizes.items():
            claim = summarize(found["claim_ms"])
            grew = ratio(claim.median, base)
            big = size != small
            rows.append(Row(
                "growth: claim", f"{name}, {int(size):,} pending, batch {CLAIM_BATCH}", claim,
                "ms", 1, f"{grew:.2f}x the {int(small):,} figure" if big else "",
                f"≤ {CLAIM_TARGET:g}x the {int(small):,} figure" if big else "",
                grew <= CLAIM_TARGET if big else None,
            ))  # fmt: skip
            if found.get("claim_ms_analyzed"):
                after = summarize(found["claim_ms_analyzed"])
                rows.append(Row("growth: claim", f"{name}, {int(size):,} pending, after ANALYZE",
                                after, "ms", 1, "every table analyzed (webhooks too)"))  # fmt: skip
            rows.append(Row("growth: ingest", f"{name}, {int(size):,} pending",
                            summarize(found["ingest"]), "events/s"))  # fmt: skip
            note = f"drained {found['delivered_per_s']:,.0f} deliveries/s meanwhile"
            peak = found["peak_rss_mb"]
            rows.append(Row("memory: worker peak RSS", f"{name}, {int(size):,} pending",
                            summarize([peak]), "MB", 0, note, f"≤ {RSS_TARGET_MB:g} MB",
                            peak <= RSS_TARGET_MB))  # fmt: skip
    return rows
