"""Scenario 10: PostgreSQL at volume, its history partitioned by time.

1. **Conversion.** A database at migration 0012 (before partitions) holding
   ``--volume-migrate-rows`` deliveries, each with its event and one attempt, is converted by
   the migration that partitions it (0013): how long the tables stay locked, in seconds.
2. **History.** ``serve --no-worker`` on a fresh database with 100 webhooks and 10,000 pending
   deliveries due now; then ``--volume-attempts`` finished attempts (four per delivery, one
   event per delivery) spread over ``--volume-days`` past days, one partition each, loaded
   with SQL straight into the partitions. Measured:

   * the claim (200 deliveries, released again) with the 10,000 pending alone, then on top of
     the whole history;
   * retention dropping the oldest day (``store.partitions.retain``): seconds, and the bytes
     the database gives back to the file system;
   * the ingest rate through the API (32 publishers, one event a request) and its slowest
     answer while that drop runs, against a quiet window just before;
   * for contrast, the row-by-row purge SQLite uses (``store.history.purge``, batches of
     1,000 deliveries) run on the next day for ``ROW_PURGE_SECONDS``: its rows/s, and the
     ingest rate meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import asyncpg

from bench.api import padded
from bench.bulk import ensure_partitions, load_backlog
from bench.db import Db, postgres_db
from bench.growth import CLAIM_BATCH, claim_times
from bench.options import Options
from bench.report import Row
from bench.sink import Sink
from bench.stack import Context, new_db, start_stack
from bench.stats import ratio, summarize
from hookline.domain.ids import id_at
from hookline.domain.partition_plan import Span, floor_boundary
from hookline.settings import Settings
from hookline.store import open_store
from hookline.store.migrate import upgrade

DAY = 86400.0
PENDING, WEBHOOKS, ATTEMPTS_PER_DELIVERY = 10_000, 100, 4
CLAIM_TARGET = 2.0  # the claim at volume: at most this many times the 10,000-pending figure
ROW_PURGE_SECONDS = 20.0
INGEST_SECONDS = 4.0
T = TypeVar("T")


def _ids(prefix: str, at: float) -> str:
    """SQL for the ids of a day's ``n``-th row: that day's time part, ``n`` as the rest."""
    head = id_at(prefix, at, 0)[: len(prefix) + 11]
    return f"'{head}' || lpad(n::text, 16, '0')"


async def _load_day(url: str, ws: str, hooks: list[str], span: Span, deliveries: int) -> None:
    """One past day of finished work straight into its partitions."""
    at, suffix = span.lower, span.suffix
    step = DAY / deliveries
    evt, dlv = _ids("evt", at), _ids("dlv", at)
    hook = f"(ARRAY[{', '.join(repr(h) for h in hooks)}])[1 + n % {len(hooks)}]"
    series = f"generate_series(1, {deliveries}) AS n"
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET synchronous_commit = off")
        await conn.execute(
            f"INSERT INTO events_{suffix} (id, workspace_id, type, body, created_at)"
            f" SELECT {evt}, '{ws}', 'history.item', '{{\"n\": ' || n || '}}', {at} + n * {step}"
            f" FROM {series}"
        )
        await conn.execute(
            f"INSERT INTO deliveries_{suffix} (id, workspace_id, event_id, webhook_id, status,"
            " ordered, attempts, retry_base, next_attempt_at, lease_until, last_status,"
            f" batch_size, created_at, updated_at) SELECT {dlv}, '{ws}', {evt}, {hook},"
            f" 'succeeded', 0, {ATTEMPTS_PER_DELIVERY}, 0, {at} + n * {step}, 0, 200, 0,"
            f" {at} + n * {step}, {at} + n * {step} FROM {series}"
        )
        att = _ids("att", at).replace("n::text", f"(n * {ATTEMPTS_PER_DELIVERY} + k)::text")
        await conn.execute(
            f"INSERT INTO attempts_{suffix} (id, workspace_id, delivery_id, webhook_id, number,"
            " started_at, duration_ms, request_method, request_url, request_headers,"
            " response_status, response_headers, response_body, request_body_is_event)"
            f" SELECT {att}, '{ws}', {dlv}, {hook}, k + 1, {at} + n * {step}, 12.5, 'POST',"
            " 'https://example.com/hook', '{}', CASE WHEN k < 3 THEN 500 ELSE 200 END, '{}',"
            f" 'ok', 1 FROM {series}, generate_series(0, {ATTEMPTS_PER_DELIVERY - 1}) AS k"
        )
    finally:
        await conn.close()


async def _load_history(db: Db, ws: str, hooks: list[str], opts: Options) -> list[Span]:
    """``--volume-attempts`` attempts over ``--volume-days`` past days; the days, oldest first."""
    today = floor_boundary(time.time(), "day")
    spans = [Span(today - n * DAY, today - (n - 1) * DAY) for n in range(opts.volume_days, 0, -1)]
    await ensure_partitions(db.url, spans[0].lower)
    per_day = opts.volume_attempts // ATTEMPTS_PER_DELIVERY // opts.volume_days
    began = time.monotonic()
    # Two days at a time: one per core.
    for pair in (spans[i : i + 2] for i in range(0, len(spans), 2)):
        await asyncio.gather(*(_load_day(db.url, ws, hooks, s, per_day) for s in pair))
    await db.execute("VACUUM ANALYZE")  # as autovacuum would after a day's inserts
    loaded = await db.scalar("SELECT COUNT(*) FROM attempts")
    print(f"  volume: {loaded:,} attempts loaded in {time.monotonic() - began:.0f}s", flush=True)
    return spans


async def _size(db: Db) -> int:
    return int(await db.scalar("SELECT pg_database_size(current_database())"))


async def _drop_oldest(db: Db, span: Span) -> dict[str, float]:
    store = await open_store(Settings(database_url=db.url))
    try:
        assert store.partitions is not None
        before, began = await _size(db), time.monotonic()
        done = await store.partitions.retain(span.upper)
        seconds = time.monotonic() - began
        if len(done.dropped) != 4:
            raise RuntimeError(f"retention dropped {done.dropped}, kept {done.kept}")
        return {"seconds": seconds, "freed_bytes": before - await _size(db)}
    finally:
        await store.close()


async def _row_purge(db: Db, span: Span) -> dict[str, float]:
    """The row-by-row purge on the next day, for ``ROW_PURGE_SECONDS``."""
    store = await open_store(Settings(database_url=db.url))
    try:
        removed, began = 0, time.monotonic()
        while time.monotonic() - began < ROW_PURGE_SECONDS:
            removed += await store.history.purge(span.upper)
        return {"rows_per_s": removed / (time.monotonic() - began)}
    finally:
        await store.close()


@dataclass
class Ingest:
    """Events published in a window, and the slowest publish's answer."""

    rate: float
    slowest_ms: float


async def _ingest(
    ws: Any, seconds: float, task: Coroutine[Any, Any, T] | None
) -> tuple[Ingest, T | None]:
    """Publish with 32 closed-loop publishers for ``seconds``; ``task`` starts one second in
    (and is waited for). The rate, the slowest answer, and ``task``'s result."""
    ends, latencies = time.monotonic() + seconds, list[float]()
    body = padded()

    async def publisher() -> None:
        while time.monotonic() < ends:
            began = time.monotonic()
            await ws.publish("ingest.e", body(len(latencies), time.time()))
            latencies.append(time.monotonic() - began)

    async def later() -> T | None:
        if task is None:
            return None
        await asyncio.sleep(1.0)
        return await task

    began = time.monotonic()
    *_, result = await asyncio.gather(*(publisher() for _ in range(32)), later())
    rate = len(latencies) / (time.monotonic() - began)
    return Ingest(rate, 1000 * max(latencies)), result


async def conversion(ctx: Context, rows: int) -> float:
    """Seconds migration 0013 takes over ``rows`` deliveries (with events and attempts)."""
    db = await postgres_db(ctx.pg_admin_url, "volume-migrate")
    try:
        await asyncio.to_thread(upgrade, db.url, "0012")
        at = time.time() - 5 * DAY
        per_day = rows // 5
        series = f"generate_series(1, {per_day}) AS n"
        for day in range(5):
            t = at + day * DAY
            evt, dlv = _ids("evt", t), _ids("dlv", t)
            await db.execute(
                "INSERT INTO events (id, workspace_id, type, body, created_at)"
                f" SELECT {evt}, 'ws_1', 'a.b', '{{}}', {t} FROM {series}"
            )
            await db.execute(
                "INSERT INTO deliveries (id, workspace_id, event_id, webhook_id, status, ordered,"
                " attempts, retry_base, next_attempt_at, lease_until, created_at, updated_at)"
                f" SELECT {dlv}, 'ws_1', {evt}, 'wh_1', 'succeeded', 0, 1, 0, {t}, 0, {t}, {t}"
                f" FROM {series}"
            )
            await db.execute(
                "INSERT INTO attempts (id, workspace_id, delivery_id, webhook_id, number,"
                " started_at, duration_ms, request_method, request_url, request_headers,"
                " response_status, response_headers, response_body)"
                f" SELECT {_ids('att', t)}, 'ws_1', {dlv}, 'wh_1', 1, {t}, 5, 'POST',"
                f" 'https://example.com/', '{{}}', 200, '{{}}', 'ok' FROM {series}"
            )
        await db.execute("VACUUM ANALYZE")
        began = time.monotonic()
        await asyncio.to_thread(upgrade, db.url)
        seconds = time.monotonic() - began
        print(f"  volume: {rows:,} deliveries converted in {seconds:.1f}s", flush=True)
        return seconds
    finally:
        await db.drop()


async def run(ctx: Context, sink: Sink, opts: Options) -> tuple[list[Row], dict[str, Any]]:
    converted = await conversion(ctx, opts.volume_migrate_rows)
    db = await new_db(ctx, "pg0", "volume")
    env = {"HOOKLINE_LOG_LEVEL": "WARNING", **opts.extra}
    stack = await start_stack(ctx, "pg0", label="volume", db=db, env=env)
    try:
        ws = await stack.api.workspace("volume")
        hooks = [await ws.webhook(f"v{i}", f"{sink.url}/volume/{i}", events=["backlog.*"])
                 for i in range(WEBHOOKS)]  # fmt: skip
        await ws.webhook("ingest", f"{sink.url}/ingest/", events=["ingest.*"])
        await load_backlog(db, ws.id, hooks, PENDING)
        await db.execute("ANALYZE")
        alone = await claim_times(db, 3 * opts.runs)
        spans = await _load_history(db, ws.id, hooks, opts)
        loaded = await claim_times(db, 3 * opts.runs)
        await _ingest(ws, 2.0, None)  # warm-up
        quiet, _ = await _ingest(ws, INGEST_SECONDS, None)
        dropping, dropped = await _ingest(ws, INGEST_SECONDS, _drop_oldest(db, spans[0]))
        purging, purged = await _ingest(ws, ROW_PURGE_SECONDS + 2, _row_purge(db, spans[1]))
        size = await _size(db)
    finally:
        await stack.stop()
        await db.drop()
    raw = {
        "conversion_seconds": converted, "migrate_rows": opts.volume_migrate_rows,
        "claim_ms_pending_only": alone, "claim_ms_at_volume": loaded,
        "attempts": opts.volume_attempts, "days": opts.volume_days, "database_bytes": size,
        "ingest_quiet": asdict(quiet), "ingest_during_drop": asdict(dropping), "drop": dropped,
        "ingest_during_row_purge": asdict(purging), "row_purge": purged,
    }  # fmt: skip
    print(f"  volume: {raw}", flush=True)
    return _rows(raw), raw


def _rows(raw: dict[str, Any]) -> list[Row]:
    n, days = raw["attempts"], raw["days"]
    alone, loaded = summarize(raw["claim_ms_pending_only"]), summarize(raw["claim_ms_at_volume"])
    grew = ratio(loaded.median, alone.median)
    drop = raw["drop"]
    quiet, dropping = raw["ingest_quiet"], raw["ingest_during_drop"]
    purging = raw["ingest_during_row_purge"]
    return [
        Row("volume: conversion", f"migration 0013, {raw['migrate_rows']:,} deliveries",
            summarize([raw["conversion_seconds"]]), "s", 1,
            "tables locked throughout (docs/operations.md)"),
        Row("volume: claim", f"{PENDING:,} pending, batch {CLAIM_BATCH}", alone, "ms", 2),
        Row("volume: claim", f"{PENDING:,} pending + {n:,} attempts over {days} days", loaded,
            "ms", 2, f"{grew:.2f}x the pending-only figure", f"≤ {CLAIM_TARGET:g}x",
            grew <= CLAIM_TARGET),
        Row("volume: retention", "one day's partitions dropped", summarize([drop["seconds"]]),
            "s", 2, f"{drop['freed_bytes'] / 2**30:.2f} GiB returned to the file system"),
        Row("volume: ingest", "quiet", summarize([quiet["rate"]]), "events/s", 0,
            f"slowest publish {quiet['slowest_ms']:,.0f} ms"),
        Row("volume: ingest", "while a day's partitions are dropped",
            summarize([dropping["rate"]]), "events/s", 0,
            f"{ratio(dropping['rate'], quiet['rate']):.2f}x quiet;"
            f" slowest publish {dropping['slowest_ms']:,.0f} ms"),
        Row("volume: row purge", f"the next day row by row, {ROW_PURGE_SECONDS:g} s",
            summarize([raw["row_purge"]["rows_per_s"]]), "rows/s", 0,
            f"ingest meanwhile {ratio(purging['rate'], quiet['rate']):.2f}x quiet,"
            f" slowest publish {purging['slowest_ms']:,.0f} ms; no disk returned"),
    ]  # fmt: skip
