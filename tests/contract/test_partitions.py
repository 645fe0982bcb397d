"""PostgreSQL's time partitions: made ahead and where asked, and dropped whole by retention
while anything still needed keeps its partition. (SQLite keeps plain tables: its retention
deletes rows, see ``test_upkeep``.)"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from dataclasses import replace
from itertools import pairwise
from typing import Any

import asyncpg
import pytest

from hookline.domain.ids import new_id
from hookline.domain.models import Delivery, Event
from hookline.domain.partition_plan import Span, floor_boundary, horizon
from hookline.domain.publication import new_delivery, new_event
from hookline.errors import StoreUnavailable
from hookline.store import Store
from hookline.store.base import PublishItem
from hookline.store.partition_ddl import TABLES, partition_name
from hookline.store.queue import CEILING_SECONDS
from hookline.store.statements.queue import QueueSql
from tests.contract.test_store import SUCCEEDED, claim, finish, webhook

DAY = 86400.0


SQLITE = "SQLite keeps its history in plain tables"


def contiguous(spans: list[Span]) -> bool:
    return all(a.upper == b.lower for a, b in pairwise(spans))


async def test_partitions_are_made_ahead_and_where_asked(store: Store) -> None:
    if store.partitions is None:
        pytest.skip(SQLITE)
    now = time.time()
    for t in TABLES:  # the migration made today's and the three days ahead
        spans = [p.span for p in await store.partitions.partitions(t.table)]
        assert spans[0].lower <= floor_boundary(now, "day")
        assert spans[-1].upper >= horizon(now, "day") and contiguous(spans)
    # Every process makes them at start: at once, and again, nothing more is made.
    assert await asyncio.gather(*(store.partitions.ensure(now, "day") for _ in range(3))) == [
        [],
        [],
        [],
    ]
    # A clock set back (or a pass run with an old time) does not refill the past.
    assert await store.partitions.ensure(2_000.0, "day") == []
    made = await store.partitions.ensure(now, "day", since=now - 3 * DAY)
    assert len(made) == 3 * len(TABLES)
    assert all(name.split("_p")[-1].isdigit() for name in made)
    # Switching to weekly spans continues from the last daily one to Monday boundaries.
    later = now + 20 * DAY
    await store.partitions.ensure(later, "week")
    for t in TABLES:
        spans = [p.span for p in await store.partitions.partitions(t.table)]
        assert contiguous(spans) and spans[-1].upper >= horizon(later, "week")
        assert spans[-1].upper - spans[-1].lower == 7 * DAY


async def old(store: Store, ws: str, hook_id: str, at: float, key: str | None = None) -> Delivery:
    """An event published at ``at`` (its id made then) and its delivery, due at once."""
    event: Event = new_event(ws, "order.created", {"at": at}, key, at)
    event = replace(event, id=new_id("evt", at=at, floor=True))
    made = new_id("dlv", at=at + 0.001, floor=True)
    delivery = replace(new_delivery(event, hook_id, at), id=made)
    await store.publishing.publish(event, [delivery])
    return delivery


async def test_retention_drops_whole_partitions_and_keeps_what_is_needed(
    store: Store, ws: str
) -> None:
    if store.partitions is None:
        pytest.skip(SQLITE)
    now = time.time()
    a = Span(floor_boundary(now - 40 * DAY, "day"), floor_boundary(now - 39 * DAY, "day"))
    b, c = Span(a.upper, a.upper + DAY), Span(a.upper + DAY, a.upper + 2 * DAY)
    await store.partitions.ensure(now, "day", since=a.lower)
    hook = await webhook(store, ws)
    done = await old(store, ws, hook.id, a.lower + 3600, key="order-1")
    retrying = await old(store, ws, hook.id, b.lower + 3600)
    await finish(store, now, {done.id: SUCCEEDED})  # `retrying`: attempted, still pending
    # An event of span c that a delivery made today refers to (as a window's can).
    referred = await old(store, ws, hook.id, c.lower + 3600)
    await finish(store, now, {referred.id: SUCCEEDED})
    event = await store.history.get_event(ws, referred.event_id)
    assert event is not None
    today = new_delivery(event, hook.id, now, due=now + 10_000)
    await store.publishing.publish(replace(event, id=new_id("evt")), [today])  # carries it

    first = await store.partitions.retain(now - 30 * DAY)
    names = {t.table: {s: partition_name(t.table, s) for s in (a, b, c)} for t in TABLES}
    assert {names[t.table][a] for t in TABLES} <= set(first.dropped)
    assert names["deliveries"][b] in first.kept  # a pending delivery keeps its span whole
    assert names["events"][c] in first.kept and names["deliveries"][c] in first.dropped
    assert await store.history.get_delivery(ws, done.id) is None
    assert await store.history.list_attempts(ws, done.id) == []
    assert await store.history.get_event(ws, done.event_id) is None
    assert await store.history.get_delivery(ws, retrying.id) is not None
    assert await store.history.list_attempts(ws, retrying.id) != []
    assert await store.history.get_event(ws, referred.event_id) is not None
    # The dropped event's idempotency key is free again.
    again = new_event(ws, "order.created", {}, "order-1", now)
    assert (await store.publishing.publish(again, [])).created

    await finish(store, now + 20_000, {retrying.id: SUCCEEDED, today.id: SUCCEEDED})
    await store.history.retry_delivery(ws, today.id, now)  # pending again: c's event stays
    second = await store.partitions.retain(now - 30 * DAY)
    assert {names[t.table][b] for t in TABLES} <= set(second.dropped)
    assert names["events"][c] in second.kept
    assert await store.partitions.retain(now - 30 * DAY) == replace(second, dropped=[])
    remaining = {p.name for t in TABLES for p in await store.partitions.partitions(t.table)}
    assert not remaining & {names[t.table][s] for t in TABLES for s in (a, b)}


def claim_call(
    store: Store, *, limit: int = 200, floor: str = "", ceiling: str | None = None
) -> tuple[str, tuple[Any, ...]]:
    """The claim's statement and its arguments as a worker passes them: due now, no webhook
    left out, no room but the default, bounded below by ``floor`` and (PostgreSQL) above by
    ``ceiling`` (the worker's: ``CEILING_SECONDS`` from now)."""
    sql, now = store.dialect.prepare(QueueSql()).claim, time.time()
    if ceiling is None:
        ceiling = new_id("dlv", at=now + CEILING_SECONDS, floor=True)
    lists, bounded = store.dialect.list_param, store.dialect.ID_CEILING
    return sql, (now, limit, 60.0, "w1", lists([]), "{}", 20, floor, *([ceiling] * bounded))


async def claim_plan(store: Store, floor: str, ceiling: str | None = None) -> str:
    """The claim's plan for its bounds, as EXPLAIN prints it, planned in a transaction with
    the claim's own settings."""
    sql, args = claim_call(store, floor=floor, ceiling=ceiling)
    async with store.dialect.tx(durable=False, custom_plans=True, index_order=True) as tx:
        found = await tx.fetch(f"EXPLAIN {sql}", *args)
    return "\n".join(str(row["QUERY PLAN"]) for row in found)


async def test_the_claim_reads_only_partitions_that_can_hold_pending_work(
    store: Store, ws: str
) -> None:
    if store.partitions is None:
        pytest.skip(SQLITE)
    now = time.time()
    await store.partitions.ensure(now, "day", since=now - 35 * DAY)
    hook = await webhook(store, ws)
    # A delivery pending for 30 days, in an old partition, is claimed like any other.
    late = await old(store, ws, hook.id, now - 30 * DAY)
    fresh = new_event(ws, "order.created", {}, None, now)
    await store.publishing.publish(fresh, [new_delivery(fresh, hook.id, now)])
    claimed = await claim(store, time.time() + 1)  # + 1: past the floor's caching
    assert {c.delivery.id for c in claimed} >= {late.id}
    # Its partition and the newer ones are planned; the older ones are not even looked at.
    older = partition_name("deliveries", Span(floor_boundary(now - 33 * DAY, "day"), 0))
    lowest = new_id("dlv", at=now - 30 * DAY - 60, floor=True)
    plan = await claim_plan(store, lowest)
    assert partition_name("deliveries", Span(floor_boundary(now - 30 * DAY, "day"), 0)) in plan
    assert older not in plan
    assert older in await claim_plan(store, "")  # unbounded: every partition
    assert "Seq Scan" not in plan.split("SubPlan")[0]
    # Nor the partitions made ahead, which nothing can be in yet.
    ahead = partition_name("deliveries", Span(floor_boundary(now + DAY, "day"), 0))
    assert ahead in await claim_plan(store, lowest, ceiling="dlv_~")  # unbounded above
    if floor_boundary(now + CEILING_SECONDS, "day") == floor_boundary(now, "day"):
        assert ahead not in plan  # (in the day's last minutes, tomorrow's may hold work)


async def test_the_claim_walks_the_due_index_on_both_databases(
    store: Store, ws: str, db_url: str
) -> None:
    """The claim's bounds on ids (below by the oldest pending delivery; above, on PostgreSQL,
    to prune the partitions made ahead) never make the plan read pending deliveries by id and
    sort them: on SQLite an id range bounded on both sides made its planner take the pending
    index by id and sort the whole backlog (10 ms per claim of a 20,000 backlog, against 1 ms
    walking the due index in order)."""
    hook = await webhook(store, ws)
    now = time.time()
    backlog = []
    for i in range(200):
        event = new_event(ws, "order.created", {}, None, now - 1 + i / 1000)
        backlog.append(PublishItem(event, [new_delivery(event, hook.id, event.created_at)]))
    await store.publishing.publish_many(backlog)
    floor = new_id("dlv", at=now - 60, floor=True)
    sql, args = claim_call(store, floor=floor)
    if db_url.startswith("sqlite"):
        lite = sqlite3.connect(db_url.removeprefix("sqlite:///"))
        try:
            steps = [row[3] for row in lite.execute(f"EXPLAIN QUERY PLAN {sql}", args)]
        finally:
            lite.close()
        assert any("USING INDEX ix_deliveries_due" in step for step in steps), steps
        return
    plan = await claim_plan(store, floor)
    assert re.search(r"Index Scan using \S*(ix_deliveries_due|next_attempt_at)", plan), plan


async def interrupted_detach(db_url: str, table: str, name: str) -> None:
    """Leave ``name`` half detached, as a process that died during the detach does."""
    holder, detacher = await asyncpg.connect(db_url), await asyncpg.connect(db_url)
    try:
        reader = holder.transaction()
        await reader.start()
        await holder.fetchval(f"SELECT COUNT(*) FROM {table}")  # the detach waits for this
        pid = await detacher.fetchval("SELECT pg_backend_pid()")
        detach = asyncio.ensure_future(
            detacher.execute(f"ALTER TABLE {table} DETACH PARTITION {name} CONCURRENTLY")
        )
        pending = "SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = $1::regclass"
        while not await holder.fetchval(pending, name):
            await asyncio.sleep(0.05)
        await holder.fetchval("SELECT pg_terminate_backend($1)", pid)
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await detach
        await reader.rollback()
    finally:
        await holder.close()
        detacher.terminate()


async def test_a_detach_cut_short_is_finished_by_the_next_pass(
    store: Store, ws: str, db_url: str
) -> None:
    if store.partitions is None:
        pytest.skip(SQLITE)
    now = time.time()
    a = Span(floor_boundary(now - 40 * DAY, "day"), floor_boundary(now - 39 * DAY, "day"))
    await store.partitions.ensure(now, "day", since=a.lower)
    hook = await webhook(store, ws)
    waiting = await old(store, ws, hook.id, a.lower + 60)  # due long ago: claimed just below
    await finish(store, now, {})  # attempted, still pending
    deliveries, attempts = partition_name("deliveries", a), partition_name("attempts", a)
    for table, name in (("deliveries", deliveries), ("attempts", attempts)):
        await interrupted_detach(db_url, table, name)
    # Still needed: both are attached back, nothing is lost.
    first = await store.partitions.retain(now - 30 * DAY)
    assert {deliveries, attempts} <= set(first.kept) and not set(first.dropped) & {deliveries}
    assert await store.history.get_delivery(ws, waiting.id) is not None
    assert len(await store.history.list_attempts(ws, waiting.id)) == 1
    # Once it is done, a detach cut short is finished and the partition dropped.
    await finish(store, now + 10_000, {waiting.id: SUCCEEDED})
    await interrupted_detach(db_url, "deliveries", deliveries)
    second = await store.partitions.retain(now - 30 * DAY)
    assert deliveries in second.dropped
    assert await store.history.get_delivery(ws, waiting.id) is None


async def test_a_row_no_partition_takes_is_the_database_unavailable(store: Store, ws: str) -> None:
    if store.partitions is None:
        pytest.skip(SQLITE)
    hook = await webhook(store, ws)
    far = time.time() + 400 * DAY  # a clock a year ahead: no partition made that far
    event = replace(
        new_event(ws, "order.created", {}, None, far), id=new_id("evt", at=far, floor=True)
    )
    with pytest.raises(StoreUnavailable, match="no partition"):
        await store.publishing.publish(event, [new_delivery(event, hook.id, far)])
    assert await store.history.get_event(ws, event.id) is None
