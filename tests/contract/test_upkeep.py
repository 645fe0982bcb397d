"""What upkeep asks of the store, on SQLite and PostgreSQL: retention purges finished work and
events no delivery needs; failing webhooks are found with the start of their failures; disabled
webhooks are listed across workspaces."""

from __future__ import annotations

from hookline.store import Store
from tests.contract.test_store import (
    FAILED,
    SUCCEEDED,
    T0,
    claim,
    finish,
    ids,
    publish,
    webhook,
    workspace,
)


async def test_purge_removes_finished_work_and_unneeded_events(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    done = await publish(store, ws, [hook], at=T0)
    waiting = await publish(store, ws, [hook], at=T0 + 1, due=T0 + 10_000)
    await finish(store, T0 + 2, {done.deliveries[0].id: SUCCEEDED})
    assert await store.history.purge(T0 + 5) == 2  # the delivery (its attempt with it), its event
    assert await store.history.get_delivery(ws, done.deliveries[0].id) is None
    assert await store.history.list_attempts(ws, done.deliveries[0].id) == []
    assert await store.history.get_event(ws, done.event.id) is None
    assert await store.history.get_event(ws, waiting.event.id) is not None  # still needed
    assert await store.history.purge(T0 + 5) == 0


async def test_purge_goes_in_batches_and_spares_pending_work(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    old = [await publish(store, ws, [hook], at=T0 + n) for n in range(3)]
    await finish(store, T0 + 5, {r.deliveries[0].id: SUCCEEDED for r in old})
    retrying = await publish(store, ws, [hook], at=T0 + 6)
    await finish(store, T0 + 7, {})  # attempted, still pending
    assert [await store.history.purge(T0 + 10**6, batch=1) for _ in range(4)] == [2, 2, 2, 0]
    assert all([await store.history.get_event(ws, r.event.id) is None for r in old])
    assert await store.history.get_delivery(ws, retrying.deliveries[0].id) is not None
    assert await store.history.get_event(ws, retrying.event.id) is not None


async def test_failing_webhooks_and_when_their_failures_began(store: Store, ws: str) -> None:
    healthy, failing, quiet = [await webhook(store, ws, name) for name in ("a", "b", "c")]
    assert await store.config.failing_since(failing.id) is None
    ok = await publish(store, ws, [healthy, failing], at=T0)
    statuses = {d.id: SUCCEEDED for d in ok.deliveries}
    await finish(store, T0 + 1, statuses)
    bad = await publish(store, ws, [healthy, failing], at=T0 + 5)
    failed = {d.id: FAILED for d in bad.deliveries if d.webhook_id == failing.id}
    await finish(store, T0 + 6, {**{d.id: SUCCEEDED for d in bad.deliveries}, **failed})
    assert await store.config.failing_since(failing.id) == T0 + 5
    assert await store.config.failing_since(healthy.id) is None
    assert await store.config.failing_since(quiet.id) is None
    assert ids(await store.config.webhooks_with_failures()) == [failing.id]
    await store.config.set_webhook_enabled(failing.id, False, "too many failures", T0 + 7)
    assert await store.config.webhooks_with_failures() == []  # only enabled ones


async def test_disabled_webhooks_of_every_workspace(store: Store, ws: str) -> None:
    other = await workspace(store, "other")
    first, second, on = (
        await webhook(store, ws, "x"),
        await webhook(store, other, "y"),
        await webhook(store, ws, "z"),
    )
    assert await store.config.disabled_webhooks() == []
    for hook in (second, first):
        await store.config.set_webhook_enabled(hook.id, False, "paused", T0 + 1)
    found = await store.config.disabled_webhooks()
    assert ids(found) == sorted([first.id, second.id])
    assert {h.disabled_reason for h in found} == {"paused"}
    assert on.id not in ids(found)


async def test_a_webhook_disabled_within_a_transaction_holds_its_deliveries(
    store: Store, ws: str
) -> None:
    """What recording a 410 Gone does, inside the recording's transaction."""
    hook = await webhook(store, ws)
    queued = await publish(store, ws, [hook], at=T0)
    version = await store.config.config_version(ws)
    async with store.dialect.tx() as tx:
        assert not await store.config.disable_in_tx(tx, hook.id, "410 Gone", T0 + 1)
    found = await store.config.get_webhook(ws, hook.id)
    assert found is not None and not found.config.enabled
    assert found.disabled_reason == "410 Gone"
    assert await store.config.config_version(ws) == (version or 0) + 1
    assert await claim(store, T0 + 2) == []  # held
    delivery = await store.history.get_delivery(ws, queued.deliveries[0].id)
    assert delivery is not None and delivery.next_attempt_at == T0  # as due as before
