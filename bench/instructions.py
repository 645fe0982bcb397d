"""``python -m bench instructions``: CPU instructions per delivery of the worker, counted by
valgrind's callgrind, for comparing code changes on a noisy machine.

Wall-clock rates on a shared host drift by ±15 % within minutes; instruction counts hardly depend
on what else the machine is doing, but claims, writes and the reading of responses batch
differently with timing: repeats of one version of the worker have differed by up to 1.3 %, the
ceiling loop's by ~4 %.

A backlog of twice ``--events`` pending deliveries is bulk-loaded into a SQLite file, then a worker
runs in-process under callgrind until every attempt is stored; the same with only the backlog's
first half gives the start-up cost and each webhook's first contact (decoding its configuration,
parsing its URL: cached afterwards), which are subtracted. The backlog goes to one webhook, or
round robin over ``--instructions-webhooks N``: with N equal to ``--events`` each webhook has one
delivery in each half, the fan-out's shape. The sink is the benchmark's nginx. The ceiling loop is
counted the same way (its own start-up subtracted), so the two are comparable. Not part of
``all``.

Runs ~50 times slower than natively: keep ``--events`` to a few thousand (default here: 2,000).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from bench.api import Api, padded
from bench.bulk import backlog_id, load_backlog
from bench.db import sqlite_db
from bench.options import Options
from bench.procs import executable, free_port, hookline_argv, wait_port
from bench.report import Row
from bench.sink import Sink
from bench.stack import LOOPBACK, Context, start_stack
from bench.stats import summarize

#: Single publishes counted by the API's count: the first ``_API_WARM`` fill caches and are
#: subtracted with the start-up.
_API_WARM = 100

_DRAIN = """
import asyncio, sqlite3, sys, uvloop
from hookline.delivery.worker import Worker
from hookline.runtime.process import _settle_heap
from hookline.settings import Settings
from hookline.store import open_store

async def main(path, n):
    settings = Settings.from_env({
        "HOOKLINE_DATABASE_URL": f"sqlite:///{path}", "HOOKLINE_ALLOWED_NETWORKS": "127.0.0.0/8",
        "HOOKLINE_WORKER_CONCURRENCY": "100", "HOOKLINE_PER_WEBHOOK_CONCURRENCY": "100"})
    store = await open_store(settings)
    worker = Worker(store, settings)
    _settle_heap()
    done = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    task = asyncio.create_task(worker.run())
    while done.execute("SELECT count(*) FROM attempts").fetchone()[0] < n:
        await asyncio.sleep(0.05)
    worker.stop()
    await task
    await store.close()

uvloop.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def _count(argv: list[str], out: Path) -> int:
    valgrind = executable("valgrind")
    if valgrind is None:
        raise RuntimeError("valgrind is not installed: apt-get install valgrind")
    cmd = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", *argv]
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    found = re.search(rb"Collected : (\d+)", err)
    if proc.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind failed: {err[-2000:]!r}")
    return int(found.group(1))


async def _worker_instructions(ctx: Context, sink: Sink, events: int, webhooks: int) -> int:
    """Instructions per delivery once the worker has seen each webhook: a backlog of twice
    ``events`` drained, minus its first half drained alone. Caches filled on a webhook's first
    delivery (its decoded configuration, its parsed URL) are then warm, as in a running worker."""
    stack = await start_stack(ctx, "sqlite0", label="instructions")
    try:
        ws = await stack.api.workspace("bench")
        ids = await ws.webhooks(range(webhooks), lambda i: f"{sink.url}/instructions/{i}")
        await load_backlog(stack.db, ws.id, ids, 2 * events, pad=1000)
    finally:
        await stack.stop_processes()
    path = stack.db.path
    full, half = Path(path + ".full"), Path(path + ".half")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    full.write_bytes(Path(path).read_bytes())
    with sqlite3.connect(path) as conn:  # the backlog's ids are numbered in due order
        conn.execute("DELETE FROM deliveries WHERE id >= ?", (backlog_id("dlv", events),))
        conn.execute("DELETE FROM events WHERE id >= ?", (backlog_id("evt", events),))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    half.write_bytes(Path(path).read_bytes())
    counts = {}
    for n, source in ((2 * events, full), (events, half)):
        Path(path).write_bytes(source.read_bytes())
        for suffix in ("-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
        argv = [sys.executable, "-c", _DRAIN, path, str(n)]
        counts[n] = await _count(argv, ctx.work_dir / f"callgrind-worker-{n}.out")
    await stack.db.drop()
    full.unlink()
    half.unlink()
    return (counts[2 * events] - counts[events]) // events


async def _api_instructions(ctx: Context, sink: Sink, events: int) -> int:
    """Instructions per single-event publish (``POST …/events``, 1 KB payload, one webhook) of
    ``hookline serve --no-worker`` on SQLite: the publishes are made one at a time, so each is
    its own request and its own transaction (group commit has nothing to group)."""
    valgrind = executable("valgrind")
    if valgrind is None:
        raise RuntimeError("valgrind is not installed: apt-get install valgrind")
    counts = {}
    for n in (_API_WARM, _API_WARM + events):
        db, port, admin = sqlite_db(ctx.work_dir, "api-count"), free_port(), secrets.token_hex(16)
        out = ctx.work_dir / f"callgrind-api-{n}.out"
        serve = hookline_argv("serve", "--port", str(port), "--database-url", db.url)
        serve += ["--no-worker", "--admin-token", admin, "--allowed-networks", LOOPBACK]
        argv = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", *serve]
        proc = ctx.procs.start(f"api-count-{n}", argv, {"HOOKLINE_LOG_LEVEL": "WARNING"})
        try:
            await wait_port(port, proc, timeout=300)
            ws = await Api(ctx.session, f"http://127.0.0.1:{port}", admin).workspace("count")
            await ws.webhook("sink", f"{sink.url}/api-count/")
            payload = padded()
            for seq in range(n):
                await ws.publish("bench.event", payload(seq, time.time()))
        finally:
            await asyncio.to_thread(proc.stop, 300)
        found = re.search(r"Collected : (\d+)", proc.tail(50))
        if found is None:
            raise RuntimeError(f"callgrind failed: {proc.tail()}")
        counts[n] = int(found.group(1))
        await db.drop()
    return (counts[_API_WARM + events] - counts[_API_WARM]) // events


async def _ceiling_instructions(ctx: Context, sink: Sink, events: int) -> int:
    counts = {}
    for n in (events, 0):
        argv = [sys.executable, "-m", "bench.ceiling", f"{sink.url}/ceiling/", str(n), "100"]
        counts[n] = await _count(argv, ctx.work_dir / f"callgrind-ceiling-{n}.out")
    return (counts[events] - counts[0]) // events


async def run(ctx: Context, sink: Sink, opts: Options) -> tuple[list[Row], dict[str, Any]]:
    # The throughput default (50,000) would take an hour under callgrind.
    events = 2_000 if opts.events == Options().events else opts.events
    spread = max(1, opts.instructions_webhooks)
    worker = await _worker_instructions(ctx, sink, events, spread)
    ceiling = await _ceiling_instructions(ctx, sink, events)
    api = await _api_instructions(ctx, sink, min(events, 400))
    print(f"  worker {worker:,} instructions/delivery; ceiling {ceiling:,}/request", flush=True)
    print(f"  API {api:,} instructions/publish (single events, one at a time)", flush=True)
    rows = [
        Row("instructions", f"worker, SQLite, {events:,} deliveries to {spread:,} webhook(s)",
            summarize([worker]),
            "instr/delivery", 0, f"the ceiling's count is {ceiling / worker:.2f}x this"),
        Row("instructions", f"ceiling loop, {events:,} requests", summarize([ceiling]),
            "instr/request", 0),
        Row("instructions", f"API, SQLite, {min(events, 400):,} single publishes",
            summarize([api]), "instr/publish", 0, "one request and one transaction each"),
    ]  # fmt: skip
    found = {"worker": worker, "ceiling": ceiling, "api_publish": api}
    return rows, {"events": events, "webhooks": spread, **found}
