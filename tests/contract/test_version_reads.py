"""Routing's shared reads of a workspace's config version
(``hookline.services.routing.VersionReads``), on SQLite and PostgreSQL: fewer reads under
concurrency, never a stale answer."""

from __future__ import annotations

import asyncio

import pytest

from hookline.errors import StoreUnavailable
from hookline.services.publishing import publish
from hookline.services.routing import Router, VersionReads
from hookline.store import Store
from hookline.store.group_commit import GroupCommit
from tests.contract.test_store import T0, opened, webhook


class Counted:
    """The store's own read, counted, and held after reading while ``hold`` is clear."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.reads = 0
        self.hold = asyncio.Event()
        self.hold.set()
        self.holding = asyncio.Event()

    async def __call__(self, workspace_id: str) -> int | None:
        self.reads += 1
        version = await self.store.config.config_version(workspace_id)
        # A read takes at least a turn of the loop: SQLite's is made on the loop's thread and
        # returns at once, which would leave concurrent callers nothing to share.
        await asyncio.sleep(0)
        if not self.hold.is_set():
            self.holding.set()
            await self.hold.wait()
        return version


async def test_concurrent_routes_share_version_reads(
    store: Store, ws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = await webhook(store, ws, events=["order.*"])
    counted = Counted(store)
    router = Router(store)
    monkeypatch.setattr(router, "_versions", VersionReads(counted))
    found = await asyncio.gather(*(router.route(ws, "order.paid", {}) for _ in range(40)))
    assert all([t.webhook.id for t in targets or []] == [hook.id] for targets in found)
    assert 2 <= counted.reads < 40
    assert await router.route("ws_missing", "order.paid", {}) is None


async def test_a_caller_never_gets_a_read_that_began_before_it_asked(store: Store, ws: str) -> None:
    counted = Counted(store)
    reads = VersionReads(counted)
    before = await store.config.config_version(ws)
    counted.hold.clear()
    early = asyncio.create_task(reads(ws))  # reads the old version, then is held
    await counted.holding.wait()
    hook = await webhook(store, ws)  # a change committed while that read is in flight
    late = [asyncio.create_task(reads(ws)) for _ in range(3)]
    await asyncio.sleep(0.05)
    assert not any(t.done() for t in late)
    counted.hold.set()
    assert await early == before
    after = await store.config.config_version(ws)
    assert after is not None and after > (before or 0)
    assert [await t for t in late] == [after] * 3  # one read, begun after they asked
    assert counted.reads == 2
    targets = await Router(store).route(ws, "x.y", {})
    assert [t.webhook.id for t in targets or []] == [hook.id]


async def test_a_failed_shared_read_fails_its_callers_and_a_cancelled_caller_no_one_else() -> None:
    calls = 0
    gate = asyncio.Event()

    async def read(workspace_id: str) -> int | None:
        nonlocal calls
        calls += 1
        await gate.wait()
        if calls == 2:
            raise StoreUnavailable("gone")
        return calls

    reads = VersionReads(read)
    first = asyncio.create_task(reads("ws"))
    await asyncio.sleep(0)
    sharing = [asyncio.create_task(reads("ws")) for _ in range(3)]
    await asyncio.sleep(0)
    sharing[0].cancel()
    gate.set()
    assert await first == 1
    results = await asyncio.gather(*sharing, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert all(isinstance(r, StoreUnavailable) for r in results[1:])
    assert await reads("ws") == 3  # nothing left in flight: the next caller reads at once


async def test_a_grouped_publish_routed_from_the_cache_sees_another_process_s_change(
    store: Store, ws: str, db_url: str
) -> None:
    """One API process publishes with the routes it has cached; another adds a webhook and
    deletes one. The next publish reaches exactly the webhooks of now, with no version read
    before routing: the group's transaction finds the version moved and it is routed again."""
    old = await webhook(store, ws, events=["order.*"])
    counted = Counted(store)
    router = Router(store)
    router._versions = VersionReads(counted)
    group = GroupCommit(store)
    first = await publish(
        store, router, ws, "order.paid", {}, idempotency_key=None, now=T0, group=group
    )
    assert first is not None and [d.webhook_id for d in first.deliveries] == [old.id]
    reads = counted.reads
    again = await publish(
        store, router, ws, "order.paid", {}, idempotency_key=None, now=T0, group=group
    )
    assert again is not None and len(again.deliveries) == 1
    assert counted.reads == reads  # the cached routes served, checked in the transaction
    async with opened(db_url) as other:  # another process changes the configuration
        new = await webhook(other, ws, "new", events=["order.*"])
        await other.config.delete_webhook(ws, old.id)
    later = await publish(
        store, router, ws, "order.paid", {}, idempotency_key=None, now=T0, group=group
    )
    assert later is not None and [d.webhook_id for d in later.deliveries] == [new.id]
    assert counted.reads == reads + 1  # routed again, with a read
    async with opened(db_url) as other:
        await other.removal.delete_workspace(ws)
    assert (
        await publish(
            store, router, ws, "order.paid", {}, idempotency_key=None, now=T0, group=group
        )
        is None
    )
