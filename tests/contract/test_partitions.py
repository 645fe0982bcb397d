"""PostgreSQL's time partitions: made ahead and where asked, and dropped whole by retention
while anything still needed keeps its partition. (SQLite keeps plain tables: its retention
deletes rows, see ``test_upkeep``.)"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from itertools import pairwise

import pytest

from hookline.domain.ids import new_id
from hookline.domain.models import Delivery, Event
from hookline.domain.partition_plan import Span, floor_boundary, horizon
from hookline.domain.publication import new_delivery, new_event
from hookline.store import Store
from hookline.store.partition_ddl import TABLES, partition_name
from tests.contract.test_store import SUCCEEDED, finish, webhook

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
