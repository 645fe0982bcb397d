"""Workspaces as Svix applications (uid, metadata, throttle rate, strictness, paged oldest
first), webhooks found by uid, and events with channels and tags: the same answers from both
databases."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hookline.domain.ids import new_id
from hookline.domain.models import Workspace
from hookline.domain.publication import new_event
from hookline.errors import Conflict
from hookline.store import Store
from tests.contract.test_store import T0, webhook


async def test_a_workspace_keeps_its_uid_metadata_and_settings(store: Store) -> None:
    made = Workspace(
        new_id("ws"), "Acme", T0, uid="acme", metadata={"plan": "pro"}, throttle_rate=20,
        strict_event_types=True, updated_at=T0,
    )  # fmt: skip
    await store.config.create_workspace(made)
    assert await store.config.get_workspace(made.id) == made
    assert await store.config.get_workspace_by_uid("acme") == made
    assert await store.config.get_workspace_by_uid("nobody") is None
    before = await store.config.config_version(made.id)

    changed = replace(made, name="Acme Inc", uid="acme-inc", metadata={}, throttle_rate=None,
                      strict_event_types=False, updated_at=T0 + 5)  # fmt: skip
    assert await store.config.update_workspace(changed) is True
    assert await store.config.get_workspace(made.id) == changed
    assert await store.config.get_workspace_by_uid("acme") is None
    assert await store.config.config_version(made.id) == (before or 0) + 1
    assert await store.config.update_workspace(replace(changed, id="ws_missing")) is False


async def test_a_workspace_uid_is_unique(store: Store) -> None:
    await store.config.create_workspace(Workspace(new_id("ws"), "one", T0, uid="taken"))
    other = Workspace(new_id("ws"), "two", T0, uid="free")
    await store.config.create_workspace(other)
    with pytest.raises(Conflict) as raised:
        await store.config.create_workspace(Workspace(new_id("ws"), "three", T0, uid="taken"))
    assert raised.value.field == "uid"
    with pytest.raises(Conflict):
        await store.config.update_workspace(replace(other, uid="taken"))
    # Workspaces without a uid never collide.
    await store.config.create_workspace(Workspace(new_id("ws"), "four", T0))
    await store.config.create_workspace(Workspace(new_id("ws"), "five", T0))


async def test_a_webhook_is_found_by_its_uid_within_its_workspace(store: Store, ws: str) -> None:
    hook = await webhook(store, ws, "orders", uid="orders-endpoint")
    assert await store.config.get_webhook_by_uid(ws, "orders-endpoint") == hook
    assert await store.config.get_webhook_by_uid("ws_other", "orders-endpoint") is None
    with pytest.raises(Conflict) as raised:
        await webhook(store, ws, "second", uid="orders-endpoint")
    assert raised.value.field == "uid"
    with pytest.raises(Conflict) as raised:
        await webhook(store, ws, "orders", uid="another")
    assert raised.value.field == "name"


async def test_an_event_keeps_its_channels_and_tags(store: Store, ws: str) -> None:
    tagged = replace(
        new_event(ws, "order.paid", {"id": 1}, None, T0),
        channels=("eu", "premium"),
        tags=("batch-7",),
    )
    plain = new_event(ws, "order.paid", {"id": 2}, None, T0)
    await store.publishing.publish(tagged, [])
    await store.publishing.publish(plain, [])
    assert await store.history.get_event(ws, tagged.id) == tagged
    assert await store.history.get_event(ws, plain.id) == plain


async def test_the_workspace_throttle_rates_are_those_of_the_limited_workspaces(
    store: Store,
) -> None:
    slow = Workspace(new_id("ws"), "slow", T0, throttle_rate=2)
    fast = Workspace(new_id("ws"), "fast", T0, throttle_rate=500)
    for made in (slow, fast, Workspace(new_id("ws"), "free", T0),
                 Workspace(new_id("ws"), "zero", T0, throttle_rate=0)):  # fmt: skip
        await store.config.create_workspace(made)
    assert await store.config.workspace_throttle_rates() == {slow.id: 2, fast.id: 500}
    await store.config.update_workspace(replace(slow, throttle_rate=None))
    await store.config.update_workspace(replace(fast, throttle_rate=7))
    assert await store.config.workspace_throttle_rates() == {fast.id: 7}


async def test_workspaces_are_paged_oldest_first_both_ways(store: Store) -> None:
    made = [Workspace(new_id("ws"), f"w{i}", T0 + i) for i in range(5)]
    for w in reversed(made):  # the order of ids, not of creation, is the listing's
        await store.config.create_workspace(w)
    w0, w1, w2, w3, w4 = made

    async def page(limit: int, cursor: str | None = None, backwards: bool = False
                   ) -> tuple[list[Workspace], bool]:  # fmt: skip
        found = await store.config.list_workspaces_page(
            limit=limit, cursor=cursor, backwards=backwards
        )
        return found.items, found.more

    assert await page(5) == (made, False)
    assert await page(2) == ([w0, w1], True)
    assert await page(2, w1.id) == ([w2, w3], True)
    assert await page(2, w3.id) == ([w4], False)
    assert await page(2, w4.id) == ([], False)
    # A page back: the workspaces just before the cursor, still shown oldest first.
    assert await page(2, w4.id, backwards=True) == ([w2, w3], True)
    assert await page(2, w2.id, backwards=True) == ([w0, w1], False)
    assert await page(3, w3.id, backwards=True) == ([w0, w1, w2], False)
    assert await page(2, w0.id, backwards=True) == ([], False)


async def test_webhooks_page_forwards_and_back(store: Store, ws: str) -> None:
    hooks = [await webhook(store, ws, f"hook-{i}") for i in range(5)]
    ids = [h.id for h in hooks]
    first = await store.config.page_webhooks(ws, limit=2)
    assert ([h.id for h in first.items], first.more) == (ids[:2], True)
    last = await store.config.page_webhooks(ws, limit=2, cursor=ids[3])
    assert ([h.id for h in last.items], last.more) == (ids[4:], False)
    back = await store.config.page_webhooks(ws, limit=2, cursor=ids[3], backwards=True)
    assert ([h.id for h in back.items], back.more) == (ids[1:3], True)
    assert (await store.config.page_webhooks("ws_other", limit=2)).items == []
