"""The worker's transactions on PostgreSQL: begun with their settings in one round trip, planned
for each batch (not once, for the tables as they were when a statement was first prepared), and
claims that read due deliveries in order rather than every index entry of the due range. And
the API's plain publishes: one statement, planned once."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import asyncpg
import pytest

from hookline.domain.ids import new_id
from hookline.domain.models import DeliveryStatus
from hookline.domain.publication import new_delivery, new_event
from hookline.domain.secretbox import SecretBox
from hookline.settings import Settings
from hookline.store.base import PublishItem
from hookline.store.postgres import PostgresStore
from hookline.store.statements.queue import QueueSql
from hookline.store.tx import Tx
from tests.contract.test_partitions import claim_call
from tests.contract.test_store import claim, outcome, webhook, workspace

pytestmark = pytest.mark.postgres


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[PostgresStore]:
    """A store with a single pooled connection: every statement runs on it, so its prepared
    statements (and the plans PostgreSQL keeps for them) are the ones looked at."""
    box = SecretBox(Settings(database_url=pg_url).secret_key)
    opened = await PostgresStore(pg_url, box, min_size=1, max_size=1).open()
    try:
        yield opened
    finally:
        await opened.close()


async def value(tx: Tx, sql: str, *args: Any) -> Any:
    """The one value a statement returns (a ``SHOW``'s setting: its column is named after it)."""
    return await cast(asyncpg.Connection, tx).fetchval(sql, *args)


def in_transaction(conn: Tx) -> bool:
    return bool(cast(asyncpg.Connection, conn).is_in_transaction())


async def publish(store: PostgresStore, ws: str, hook_id: str, count: int, at: float) -> None:
    for _ in range(count):
        event = new_event(ws, "order.created", {"at": at}, None, at)
        await store.publishing.publish(event, [new_delivery(event, hook_id, at)])


async def test_a_group_of_plain_publishes_is_planned_once(store: PostgresStore) -> None:
    """The API's side: a group of plain publishes is one statement (see ``pg_arrays``), which
    PostgreSQL plans once per connection after its first five executions, not at each one
    (planning it, over the partitions of two tables, cost more than running it)."""
    now = time.time()
    ws = await workspace(store)
    hook = await webhook(store, ws)
    version = await store.config.config_version(ws)
    for size in range(1, 9):
        items = []
        for _ in range(size):
            event = new_event(ws, "order.created", {}, None, now)
            delivery = new_delivery(event, hook.id, now)
            items.append(PublishItem(event, [delivery], (), frozenset(), frozenset(), version))
        assert all(r is not None for r in await store.publishing.publish_current(items))
    async with store.dialect.read() as conn:
        found = await conn.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE 'WITH e AS (INSERT INTO events%'"
        )
    assert found is not None, "not published in one statement"
    assert (found["generic_plans"], found["custom_plans"]) == (3, 5)


async def test_results_are_planned_for_each_batch(store: PostgresStore) -> None:
    # A batch's results join its ids to ``deliveries``. Planned once and kept (PostgreSQL keeps
    # a generic plan after five executions), the plan chosen for a nearly empty table read the
    # whole table by hash join, twice per batch, however large it had grown since.
    now = time.time()
    ws = await workspace(store)
    hook = await webhook(store, ws)
    for _ in range(8):
        await publish(store, ws, hook.id, 10, now)
        found = await claim(store, now + 1)
        assert len(found) == 10
        done = [outcome(c, DeliveryStatus.SUCCEEDED, at=now) for c in found]
        await store.queue.record(done, now + 1)
    async with store.dialect.read() as conn:
        prepared = await conn.fetch(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
        )
    results = [
        r
        for r in prepared
        if r["statement"].startswith(("UPDATE deliveries d SET status", "INSERT INTO attempts"))
    ]
    assert len(results) == 2
    for r in results:
        assert (r["generic_plans"], r["custom_plans"]) == (0, 8), r["statement"][:40]


async def test_the_claim_reads_due_deliveries_in_order(store: PostgresStore) -> None:
    # A bitmap scan of the due range reads every entry of it, those of deliveries finished
    # since the last vacuum included, and never marks them dead; the claim's transaction
    # rules it out, leaving the ordered scan of the due index that stops at the claim's limit.
    now = time.time()
    ws = await workspace(store)
    hook = await webhook(store, ws)
    await publish(store, ws, hook.id, 40, now)
    found = await claim(store, now + 1, limit=30)
    await store.queue.record([outcome(c, DeliveryStatus.SUCCEEDED, at=now) for c in found], now)
    sql, args = claim_call(store)
    async with store.dialect.tx(durable=False, custom_plans=True) as tx:
        plan = "\n".join(r["QUERY PLAN"] for r in await tx.fetch(f"EXPLAIN {sql}", *args))
    scan = plan.split("SubPlan")[0]
    assert "Bitmap" not in scan
    assert re.search(r"Index Scan using \S*(ix_deliveries_due|next_attempt_at)", scan), plan


async def test_the_claim_reads_no_more_of_a_backlog_than_it_leases(store: PostgresStore) -> None:
    # Never analyzed (a new day's partition, or a server without autovacuum), the tables look
    # nearly empty to the planner, which then read every due delivery and sorted them: a claim
    # cost grew with the backlog, so a worker that fell behind fell further behind. The claim's
    # transaction leaves only the walk of the due index in order, stopping at the limit.
    now = time.time()
    ws = await workspace(store)
    hook = await webhook(store, ws)
    await insert_deliveries(store, ws, hook.id, 3000, now - 10, "pending")
    plan = await analyzed_claim(store, *claim_call(store, limit=20))
    assert "JIT" not in plan
    scans = list(_nodes(plan["Plan"], "Index Scan"))
    due = [n for n in scans if "next_attempt_at" in n.get("Index Name", "")]
    assert due and sum(n["Actual Rows"] for n in due) <= 40, plan
    assert not any(n.get("Sort Key") == ["d.next_attempt_at"] for n in _nodes(plan["Plan"], "Sort"))


async def analyzed_claim(store: PostgresStore, sql: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """The claim's plan as ``EXPLAIN (ANALYZE, FORMAT JSON)`` ran it in a transaction with the
    claim's settings, rolled back (its leases are not wanted)."""
    with pytest.raises(_RolledBack):
        async with store.dialect.tx(durable=False, custom_plans=True, index_order=True) as tx:
            explain = f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}"
            plan: dict[str, Any] = json.loads(await value(tx, explain, *args))[0]
            raise _RolledBack
    return plan


async def insert_deliveries(
    store: PostgresStore, ws: str, hook_id: str, count: int, at: float, status: str
) -> None:
    """``count`` deliveries of one event, due from ``at`` a millisecond apart, in one statement
    (no statistics gathered: the partition stays as young as a new day's)."""
    event = new_event(ws, "order.created", {}, None, at)
    await store.publishing.publish(event, [])
    ids = [new_id("dlv") for _ in range(count)]
    async with store.dialect.tx() as tx:
        await tx.execute(
            "INSERT INTO deliveries (id, workspace_id, event_id, webhook_id, status, ordered,"
            " attempts, retry_base, next_attempt_at, lease_until, created_at, updated_at)"
            " SELECT id, $2, $3, $4, $6, 0, 0, 0, $5 + n / 1000.0, 0, $5, $5"
            " FROM unnest($1::text[]) WITH ORDINALITY AS t (id, n)",
            ids, ws, event.id, hook_id, at, status,
        )  # fmt: skip


async def test_a_claim_ranks_its_candidates_once_on_a_young_partition(
    store: PostgresStore,
) -> None:
    # The leased rows are picked among the ranked candidates. Written as ``id IN (…)`` on a
    # partition without statistics, PostgreSQL made that a join that ranked the candidates
    # again for every delivery of the claim's id range, finished ones included: a claim's cost
    # grew with the day's deliveries (46 ms for 140 of 390 rows).
    now = time.time()
    ws = await workspace(store)
    hook = await webhook(store, ws)
    await insert_deliveries(store, ws, hook.id, 250, now - 20, "succeeded")
    await insert_deliveries(store, ws, hook.id, 140, now - 10, "pending")
    plan = await analyzed_claim(
        store, *claim_call(store, floor=new_id("dlv", at=now - 120, floor=True))
    )
    ranked = list(_nodes(plan["Plan"], "WindowAgg"))
    assert ranked and all(n["Actual Loops"] == 1 for n in ranked), plan
    assert sum(n["Actual Rows"] for n in _nodes(plan["Plan"], "ModifyTable")) == 20
    assert not list(_nodes(plan["Plan"], "Seq Scan")), plan


async def test_the_oldest_pending_delivery_is_found_by_index_as_the_day_grows(
    store: PostgresStore,
) -> None:
    # The read has no parameter, so PostgreSQL keeps the plan of its first execution on each
    # connection. Made while the day's partition was empty, that plan read the whole
    # partition, once a second per worker, for as long as the connection lived (33 ms at
    # 38,000 deliveries). The claim's transaction rules sequential scans out.
    now = time.time()
    ws = await workspace(store)
    hook = await webhook(store, ws)
    assert await claim(store, now) == []  # prepares the read on the empty partition
    await insert_deliveries(store, ws, hook.id, 3000, now - 20, "succeeded")
    async with store.dialect.read() as conn:
        name = await value(
            conn,
            "SELECT name FROM pg_prepared_statements WHERE statement = $1",
            store.dialect.render(QueueSql().pending_floor),
        )
        assert name is not None, "the claim did not read the oldest pending delivery"
        plan = "\n".join(r["QUERY PLAN"] for r in await conn.fetch(f"EXPLAIN EXECUTE {name}"))
    assert "Seq Scan" not in plan, plan
    assert "Index Only Scan" in plan, plan


class _RolledBack(Exception):
    """Ends a transaction whose changes (a claim's leases) are not wanted."""


def _nodes(node: dict[str, Any], kind: str) -> Iterator[dict[str, Any]]:
    """The plan's nodes of one kind, however deep."""
    if node["Node Type"] == kind:
        yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child, kind)


async def test_a_worker_transaction_begins_with_its_settings_and_ends_with_them(
    store: PostgresStore,
) -> None:
    async with store.dialect.tx(durable=False, custom_plans=True) as tx:
        assert await value(tx, "SHOW synchronous_commit") == "off"
        assert await value(tx, "SHOW plan_cache_mode") == "force_custom_plan"
        assert await value(tx, "SHOW enable_bitmapscan") == "off"
        assert await value(tx, "SHOW enable_sort") == "on"
    async with store.dialect.tx(durable=False, custom_plans=True, index_order=True) as tx:
        assert (await value(tx, "SHOW enable_sort"), await value(tx, "SHOW jit")) == ("off", "off")
        assert await value(tx, "SHOW enable_seqscan") == "off"
    async with store.dialect.read() as conn:
        assert not in_transaction(conn)
        assert await value(conn, "SHOW synchronous_commit") == "on"
        assert await value(conn, "SHOW enable_bitmapscan") == "on"
        assert await value(conn, "SHOW enable_sort") == "on"
        assert await value(conn, "SHOW enable_seqscan") == "on"


async def test_a_worker_transaction_that_fails_leaves_nothing_behind(
    store: PostgresStore,
) -> None:
    ws = await workspace(store)
    rename = "UPDATE workspaces SET name = $2 WHERE id = $1"
    with pytest.raises(RuntimeError):
        async with store.dialect.tx(durable=False) as tx:
            await tx.execute(rename, ws, "renamed")
            raise RuntimeError("a bug mid-transaction")
    with pytest.raises(asyncpg.DivisionByZeroError):
        async with store.dialect.tx(durable=False, custom_plans=True) as tx:
            await tx.execute(rename, ws, "renamed")
            await value(tx, "SELECT 1 / 0")
    async with store.dialect.read() as conn:  # the same connection, handed back clean
        assert not in_transaction(conn)
        assert await value(conn, "SHOW synchronous_commit") == "on"
        assert await value(conn, "SELECT name FROM workspaces WHERE id = $1", ws) == "acme"
    async with store.dialect.tx(durable=False) as tx:
        await tx.execute(rename, ws, "renamed")
    async with store.dialect.read() as conn:
        assert await value(conn, "SELECT name FROM workspaces WHERE id = $1", ws) == "renamed"
