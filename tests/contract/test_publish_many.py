"""The store contract of ``publish_many``: many events and their deliveries in one transaction.

Each test runs on SQLite and on PostgreSQL (the fixtures of ``test_store``: one database per
backend for the module, emptied for each test).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace

import asyncpg
import pytest

from hookline.domain.models import Webhook
from hookline.domain.publication import new_delivery, new_event
from hookline.errors import Conflict
from hookline.store import DeliveryQuery, PublishResult, Store
from hookline.store.base import PublishItem, WindowSpec
from tests.contract.test_store import T0, claim, execute_raw, ids, webhook, workspace


def item(
    ws: str,
    hooks: Sequence[Webhook] = (),
    *,
    at: float = T0,
    key: str | None = None,
    windows: Sequence[WindowSpec] = (),
    fifo: frozenset[str] | None = None,
) -> PublishItem:
    event = new_event(ws, "order.created", {"at": at, "key": key}, key, at)
    deliveries = [new_delivery(event, h.id, at) for h in hooks]
    return PublishItem(event, deliveries, windows, fifo)


def plain(i: PublishItem) -> PublishItem:
    """The item as the services make one with no key, window or disabled webhook: FIFO
    webhooks and held ones (none) known, so the store may write it in one statement."""
    return replace(i, fifo=i.fifo or frozenset(), held=frozenset())


@pytest.fixture(params=["in a transaction", "plain"])
def shaped(request: pytest.FixtureRequest) -> Callable[[PublishItem], PublishItem]:
    """Each test twice: items the store writes in its transaction, and plain ones (written in
    one statement where the database can): the outcomes are the same."""
    return plain if request.param == "plain" else (lambda i: i)


async def stored_events(store: Store, ws: str) -> list[str]:
    return sorted(ids((await store.history.list_events(ws, limit=500)).items))


async def stored_deliveries(store: Store, ws: str) -> list[str]:
    return sorted(ids((await store.history.list_deliveries(ws, DeliveryQuery(limit=500))).items))


async def test_publish_many_stores_every_event_and_delivery_in_order(
    store: Store, ws: str, shaped: Callable[[PublishItem], PublishItem]
) -> None:
    a, b = await webhook(store, ws, "a"), await webhook(store, ws, "b")
    items = [item(ws, [a, b], at=T0), item(ws, [], at=T0 + 1), item(ws, [b], at=T0 + 2)]
    items = [shaped(i) for i in items]
    results = await store.publishing.publish_many(items)
    assert results == [PublishResult(i.event, list(i.deliveries), True) for i in items]
    assert await stored_events(store, ws) == sorted(i.event.id for i in items)
    assert await stored_deliveries(store, ws) == sorted(d.id for i in items for d in i.deliveries)
    for i in items:
        assert await store.history.get_event(ws, i.event.id) == i.event
        for d in i.deliveries:
            assert await store.history.get_delivery(ws, d.id) == d
    assert await store.publishing.publish_many([]) == []


async def test_publish_many_is_all_or_nothing(
    store: Store, ws: str, shaped: Callable[[PublishItem], PublishItem]
) -> None:
    hook = await webhook(store, ws)
    good, bad = shaped(item(ws, [hook])), shaped(item(ws, [hook], at=T0 + 1))
    clash = replace(bad.deliveries[0], id=good.deliveries[0].id)  # the last row breaks it
    with pytest.raises((sqlite3.IntegrityError, asyncpg.UniqueViolationError)):
        await store.publishing.publish_many([good, replace(bad, deliveries=[clash])])
    assert await stored_events(store, ws) == []
    assert await stored_deliveries(store, ws) == []
    assert [r.created for r in await store.publishing.publish_many([good, bad])] == [True, True]


async def test_an_event_id_collision_is_a_conflict_and_stores_nothing(
    store: Store, ws: str, shaped: Callable[[PublishItem], PublishItem]
) -> None:
    hook = await webhook(store, ws)
    first = shaped(item(ws, [hook]))
    await store.publishing.publish_many([first])
    again = shaped(item(ws, [hook], at=T0 + 1))
    collision = replace(again, event=replace(again.event, id=first.event.id, body="{}"))
    with pytest.raises(Conflict):
        await store.publishing.publish_many([shaped(item(ws, [hook], at=T0 + 2)), collision])
    assert await stored_events(store, ws) == [first.event.id]
    assert await stored_deliveries(store, ws) == ids(first.deliveries)
    # A key does not make a colliding id a repeat: the key is new, the id is not.
    keyed = replace(collision, event=replace(collision.event, idempotency_key="fresh"))
    with pytest.raises(Conflict):
        await store.publishing.publish_many([keyed])


async def test_existing_keys_return_the_first_events(store: Store, ws: str) -> None:
    a, b = await webhook(store, ws, "a"), await webhook(store, ws, "b")
    [one, two] = await store.publishing.publish_many(
        [item(ws, [a, b], key="k1"), item(ws, [a], key="k2", at=T0 + 1)]
    )
    fresh = item(ws, [b], key="k3", at=T0 + 2)
    results = await store.publishing.publish_many(
        [item(ws, [a], key="k2", at=T0 + 3), fresh, item(ws, [], key="k1", at=T0 + 4)]
    )
    assert results == [
        PublishResult(two.event, sorted(two.deliveries, key=lambda d: d.id), False),
        PublishResult(fresh.event, list(fresh.deliveries), True),
        PublishResult(one.event, sorted(one.deliveries, key=lambda d: d.id), False),
    ]
    assert len(await stored_events(store, ws)) == 3
    assert len(await stored_deliveries(store, ws)) == 4
    # Keys belong to a workspace: the same key elsewhere is a new event.
    beta = await workspace(store, "beta")
    assert [r.created for r in await store.publishing.publish_many([item(beta, [], key="k1")])] == [
        True
    ]


async def test_a_key_repeated_within_a_call_maps_to_its_first_event(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    items = [
        item(ws, [hook], key="same"),
        item(ws, [hook], at=T0 + 1),
        item(ws, [hook], key="same", at=T0 + 2),
        item(ws, [hook], key="same", at=T0 + 3),
    ]
    results = await store.publishing.publish_many(items)
    assert [r.created for r in results] == [True, True, False, False]
    assert results[2] == results[3] == PublishResult(items[0].event, results[0].deliveries, False)
    assert await stored_events(store, ws) == sorted([items[0].event.id, items[1].event.id])
    assert len(await stored_deliveries(store, ws)) == 2


async def test_concurrent_calls_with_one_key_create_one_event(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    calls = [
        store.publishing.publish_many([item(ws, [hook], key="same", at=T0 + i)]) for i in range(5)
    ]
    results = [r for found in await asyncio.gather(*calls) for r in found]
    assert sum(r.created for r in results) == 1
    assert len({r.event.id for r in results}) == 1
    assert len({r.deliveries[0].id for r in results}) == 1
    assert len(await stored_deliveries(store, ws)) == 1


async def test_fifo_comes_with_the_items_and_is_read_only_when_missing(
    store: Store, ws: str, db_url: str
) -> None:
    fifo = await webhook(store, ws, "fifo", ordering="fifo")
    other = await webhook(store, ws, "other")
    routed = [item(ws, [fifo, other], at=T0 + i, fifo=frozenset({fifo.id})) for i in range(2)]
    unknown = item(ws, [fifo, other], at=T0 + 2)  # None: the store reads the configs
    stale = item(ws, [fifo, other], at=T0 + 3, fifo=frozenset())  # routed before a change
    await store.publishing.publish_many([*routed, unknown, stale])
    # Plain (nothing held either): written in one statement where the database can. Due
    # after the claim below.
    plain_ones = [
        plain(item(ws, [fifo, other], at=T0 + 10 + i, fifo=frozenset({fifo.id}))) for i in range(2)
    ]
    await store.publishing.publish_many(plain_ones)
    ordered = await execute_raw(
        db_url,
        *(
            f"SELECT ordered FROM deliveries WHERE id = '{d.id}'"
            for i in (*routed, unknown, stale, *plain_ones)
            for d in i.deliveries
        ),
    )
    assert ordered == [1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0]
    first = routed[0].deliveries
    head, rest = [first[0].id, first[1].id], [routed[1].deliveries[1].id, unknown.deliveries[1].id]
    claimed = ids([c.delivery for c in await claim(store, T0 + 5)])
    # The stale item's FIFO delivery is not ordered: it does not wait for the FIFO head.
    assert sorted(claimed) == sorted([*head, *rest, *ids(stale.deliveries)])


async def test_events_of_one_call_join_a_window_in_order(store: Store, ws: str) -> None:
    hook = await webhook(store, ws, "windowed")
    other = await webhook(store, ws, "other")
    spec = WindowSpec(hook.id, 60, max_events=3)
    items = [
        item(ws, [other] if i == 1 else [], at=T0 + i, windows=[spec], key=f"k{i}")
        for i in range(4)
    ]
    results = await store.publishing.publish_many(items)
    windows = [[d for d in r.deliveries if d.webhook_id == hook.id] for r in results]
    assert [len(w) for w in windows] == [1, 1, 1, 1]
    first_window = windows[0][0].id
    assert [w[0].id for w in windows[:3]] == [first_window] * 3
    assert windows[3][0].id != first_window  # the first one closed at 3 events
    assert results[1].deliveries[0] == items[1].deliveries[0]  # its own delivery first
    claimed = await claim(store, T0 + 3)  # the full window is due at once; the other is not
    batches = {c.delivery.id: c.batch for c in claimed if c.webhook.id == hook.id}
    assert list(batches) == [first_window]
    assert [e.id for e in batches[first_window]] == [i.event.id for i in items[:3]]
    # A repeat finds the windows its first event joined, opened or not by it.
    repeats = await store.publishing.publish_many(
        [item(ws, at=T0 + 9, key="k1", windows=[spec]), item(ws, at=T0 + 9, key="k3")]
    )
    assert [r.created for r in repeats] == [False, False]
    assert [r.event for r in repeats] == [items[1].event, items[3].event]
    assert [d.id for d in repeats[0].deliveries] == sorted(
        [first_window, items[1].deliveries[0].id]
    )
    assert [d.id for d in repeats[1].deliveries] == [windows[3][0].id]
