"""Loading a large backlog straight into the tables (it is a benchmark, not an API client).

Each pending delivery gets its own small event; due times are spread over the past hour and the
deliveries round-robin over the given webhooks, as a real backlog across many endpoints would.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator, Sequence
from typing import Any

import asyncpg

from bench.db import Db
from hookline.domain.ids import id_at
from hookline.settings import Settings
from hookline.store import open_store

_EVENT_COLUMNS = ("id", "workspace_id", "type", "body", "idempotency_key", "created_at")
_DELIVERY_COLUMNS = (
    "id", "workspace_id", "event_id", "webhook_id", "status", "ordered", "attempts",
    "retry_base", "next_attempt_at", "lease_until", "leased_by", "last_status", "last_error",
    "batch_size", "created_at", "updated_at",
)  # fmt: skip
_CHUNK = 100_000  # one transaction up to this many: workers see the backlog at once


def _rows(
    workspace: str, webhooks: Sequence[str], start: int, count: int, now: float, pad: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    events, deliveries = [], []
    filler = "x" * pad
    for i in range(start, start + count):
        due = now - 3600 + 3600 * i / max(start + count, 1)
        event_id, delivery_id = backlog_id("evt", i), backlog_id("dlv", i)
        body = f'{{"n": {i}, "pad": "{filler}"}}'
        events.append((event_id, workspace, "backlog.item", body, None, due))
        deliveries.append(
            (delivery_id, workspace, event_id, webhooks[i % len(webhooks)], "pending", 0, 0, 0,
             due, 0.0, None, None, None, 0, due, due)
        )  # fmt: skip
    return events, deliveries


#: The moment every backlog id is made at (an hour ago, when the oldest is due): the ids are
#: real ids, as PostgreSQL's time partitions need, and sort by their number.
BACKLOG_AT = time.time() - 3600


def backlog_id(prefix: str, number: int) -> str:
    """The id of the backlog's ``number``-th event or delivery: ids sort in due order."""
    return id_at(prefix, BACKLOG_AT, number)


def _chunks(total: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, _CHUNK):
        yield start, min(_CHUNK, total - start)


async def load_backlog(
    db: Db, workspace: str, webhooks: Sequence[str], total: int, *, pad: int = 0
) -> float:
    """Insert ``total`` pending deliveries (event bodies padded with ``pad`` bytes); returns
    the seconds it took (ANALYZE included)."""
    began, args = time.monotonic(), (workspace, webhooks, total, time.time(), pad)
    if db.is_sqlite:
        await asyncio.to_thread(_load_sqlite, db.path, *args)
    else:
        await _load_postgres(db.url, *args)
    return time.monotonic() - began


def _load_sqlite(
    path: str, workspace: str, webhooks: Sequence[str], total: int, now: float, pad: int
) -> None:
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 60000")
        for start, count in _chunks(total):
            events, deliveries = _rows(workspace, webhooks, start, count, now, pad)
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(_insert("events", _EVENT_COLUMNS, "?"), events)
            conn.executemany(_insert("deliveries", _DELIVERY_COLUMNS, "?"), deliveries)
            conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()


async def _load_postgres(
    url: str, workspace: str, webhooks: Sequence[str], total: int, now: float, pad: int
) -> None:
    await ensure_partitions(url, BACKLOG_AT)
    conn = await asyncpg.connect(url)
    try:
        for start, count in _chunks(total):
            events, deliveries = _rows(workspace, webhooks, start, count, now, pad)
            await conn.copy_records_to_table("events", records=events, columns=_EVENT_COLUMNS)
            await conn.copy_records_to_table(
                "deliveries", records=deliveries, columns=_DELIVERY_COLUMNS
            )
        await conn.execute("ANALYZE events; ANALYZE deliveries")
    finally:
        await conn.close()


async def ensure_partitions(url: str, since: float) -> None:
    """Make PostgreSQL's time partitions cover ``since`` up to the days ahead."""
    store = await open_store(Settings(database_url=url))
    try:
        if store.partitions is not None:
            await store.partitions.ensure(time.time(), "day", since=since)
    finally:
        await store.close()


def _insert(table: str, columns: Sequence[str], mark: str) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
