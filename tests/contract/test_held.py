"""Deliveries held while their webhook is disabled, on every store: made by routing as for an
enabled webhook, never claimed while it is disabled, claimed in due order once it is enabled,
and expired past the retention period."""

from __future__ import annotations

from typing import Any

from hookline.services.publishing import publish as route_and_publish
from hookline.services.routing import Router
from hookline.store import PublishResult, QueueStats, Store
from hookline.store.held import EXPIRED
from tests.contract.test_store import (
    FAILED,
    PENDING,
    SUCCEEDED,
    T0,
    claim,
    finish,
    ids,
    outcome,
    publish,
    webhook,
)


async def published(store: Store, ws: str, n: int, at: float, type: str = "order.created") -> Any:
    """Publish ``{"n": n}`` through routing, as the API does."""
    result = await route_and_publish(
        store, Router(store), ws, type, {"n": n}, idempotency_key=None, now=at
    )
    assert isinstance(result, PublishResult)
    return result


async def test_deliveries_of_a_disabled_webhook_are_made_and_wait_until_it_is_enabled(
    store: Store, ws: str
) -> None:
    paused = await webhook(store, ws, "paused", events=["order.*"])
    live = await webhook(store, ws, "live", events=["order.*"])
    await store.config.set_webhook_enabled(paused.id, False, "paused by a user", T0)
    made = [await published(store, ws, n, at=T0 + n) for n in range(1, 4)]
    held = [d for p in made for d in p.deliveries if d.webhook_id == paused.id]
    assert len(held) == 3  # routing makes them as for an enabled webhook
    sent = await claim(store, T0 + 100)
    assert [c.webhook.id for c in sent] == [live.id] * 3
    await store.queue.record([outcome(c, SUCCEEDED, at=T0 + 100) for c in sent], T0 + 100)
    assert await claim(store, T0 + 200) == []
    stats = await store.queue.queue_stats(T0 + 200)
    assert (stats.pending, stats.oldest_due_at) == (3, None)  # waiting, not overdue work
    for delivery in held:  # as published: due when published, no attempt used
        assert await store.history.get_delivery(ws, delivery.id) == delivery
    await store.config.set_webhook_enabled(paused.id, True, None, T0 + 300)
    released = await claim(store, T0 + 300, limit=2)
    assert ids([c.delivery for c in released]) == ids(held[:2])  # the oldest due first
    assert [c.delivery.attempts for c in released] == [0, 0]
    assert ids([c.delivery for c in await claim(store, T0 + 300)]) == [held[2].id]


async def test_a_held_fifo_webhook_sends_strictly_in_order_once_enabled(
    store: Store, ws: str
) -> None:
    fifo = await webhook(store, ws, "fifo", ordering="fifo")
    pending = await publish(store, ws, [fifo], at=T0)
    [first] = await claim(store, T0)
    await store.queue.record([outcome(first, PENDING, at=T0 + 1, retry_at=T0 + 5)], T0 + 1)
    await store.config.set_webhook_enabled(fifo.id, False, "paused by a user", T0 + 2)
    later = [await published(store, ws, n, at=T0 + 2 + n) for n in range(1, 3)]
    assert await claim(store, T0 + 50) == []
    await store.config.set_webhook_enabled(fifo.id, True, None, T0 + 60)
    [head] = await claim(store, T0 + 60)
    assert head.delivery.id == pending.deliveries[0].id and head.delivery.attempts == 1
    await store.queue.record([outcome(head, SUCCEEDED, at=T0 + 61)], T0 + 61)
    [nxt] = await claim(store, T0 + 62)
    assert nxt.delivery.id == later[0].deliveries[0].id


async def test_windows_of_a_disabled_webhook_open_and_close_as_usual_and_wait(
    store: Store, ws: str
) -> None:
    hook = await webhook(store, ws, "digest", aggregation_seconds=10)
    await store.config.set_webhook_enabled(hook.id, False, "paused by a user", T0)
    first = await published(store, ws, 1, at=T0 + 1)
    await published(store, ws, 2, at=T0 + 2)
    second = await published(store, ws, 3, at=T0 + 20)  # the first window closed at T0 + 11
    assert await claim(store, T0 + 100) == []
    await store.config.set_webhook_enabled(hook.id, True, None, T0 + 100)
    windows = await claim(store, T0 + 100)
    assert ids([c.delivery for c in windows]) == [
        first.deliveries[0].id,
        second.deliveries[0].id,
    ]
    assert [[e.body for e in c.batch] for c in windows] == [['{"n": 1}', '{"n": 2}'], ['{"n": 3}']]


async def test_a_webhook_disabled_with_deliveries_queued_holds_them(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    queued = await publish(store, ws, [hook], at=T0)
    await store.config.set_webhook_enabled(hook.id, False, "paused by a user", T0 + 1)
    assert await claim(store, T0 + 10) == []
    assert (await store.queue.queue_stats(T0 + 10)).oldest_due_at is None
    found = await store.history.get_delivery(ws, queued.deliveries[0].id)
    assert found == queued.deliveries[0]
    await store.config.set_webhook_enabled(hook.id, True, None, T0 + 20)
    assert ids([c.delivery for c in await claim(store, T0 + 20)]) == ids(queued.deliveries)


async def test_retried_and_replayed_deliveries_of_a_disabled_webhook_are_held(
    store: Store, ws: str
) -> None:
    hook = await webhook(store, ws)
    done = [await publish(store, ws, [hook], at=T0 + n) for n in range(2)]
    await finish(store, T0 + 5, {d.id: FAILED for p in done for d in p.deliveries})
    await store.config.set_webhook_enabled(hook.id, False, "paused by a user", T0 + 6)
    first, second = (p.deliveries[0].id for p in done)
    assert await store.history.retry_delivery(ws, first, T0 + 7)
    replayed = await store.history.replay_webhook(
        ws, hook.id, since=T0 + 1, until=T0 + 2, statuses=[FAILED], now=T0 + 8
    )
    assert replayed == 1
    assert await claim(store, T0 + 9) == []
    assert await store.queue.queue_stats(T0 + 9) == QueueStats(2, None)
    retried = await store.history.get_delivery(ws, first)
    assert retried is not None and (retried.status, retried.next_attempt_at) == (PENDING, T0 + 7)
    await store.config.set_webhook_enabled(hook.id, True, None, T0 + 10)
    assert ids([c.delivery for c in await claim(store, T0 + 10)]) == [first, second]


async def test_held_deliveries_outlive_retention_until_they_expire(store: Store, ws: str) -> None:
    hook = await webhook(store, ws, "gone", events=["*"])
    live = await webhook(store, ws, "live", events=["*"])
    await store.config.set_webhook_enabled(hook.id, False, "paused by a user", T0)
    old = await published(store, ws, 1, at=T0 + 1)
    young = await published(store, ws, 2, at=T0 + 50)
    await finish(store, T0 + 60, {})  # the live webhook's two: failing, retrying
    retention_cut = T0 + 10
    assert await store.history.purge(retention_cut) == 0  # held work and its events are kept
    assert await store.history.get_event(ws, old.event.id) is not None
    [old_held] = [d for d in old.deliveries if d.webhook_id == hook.id]
    [young_held] = [d for d in young.deliveries if d.webhook_id == hook.id]
    assert (await store.queue.expire_held(live.id, retention_cut, T0 + 100)).deliveries == 0
    expired = await store.queue.expire_held(hook.id, retention_cut, T0 + 100)
    assert (expired.deliveries, expired.event_types) == (1, frozenset({"order.created"}))
    assert (await store.queue.expire_held(hook.id, retention_cut, T0 + 100)).deliveries == 0
    gone = await store.history.get_delivery(ws, old_held.id)
    assert gone is not None
    assert (gone.status, gone.attempts, gone.last_error) == (FAILED, 0, EXPIRED)
    assert await store.history.get_delivery(ws, young_held.id) == young_held  # still held
    await store.config.set_webhook_enabled(hook.id, True, None, T0 + 200)
    assert ids(await store.config.webhooks_with_failures()) == [live.id]  # an expiry is no failure
    assert (await store.queue.expire_held(hook.id, T0 + 1000, T0 + 200)).deliveries == 0
    assert young_held.id in ids([c.delivery for c in await claim(store, T0 + 200)])
