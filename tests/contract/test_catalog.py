"""The event-type catalog on every database: a workspace's entries, the shared ones (workspace
``''``), a workspace's view of both, the shared catalog's pages, and the config version that a
workspace's catalog change moves."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hookline.domain.ids import new_id
from hookline.domain.models import SHARED_CATALOG, EventType
from hookline.errors import Conflict
from hookline.store import Store
from tests.contract.test_store import T0, workspace


def entry(scope: str, name: str, **fields: object) -> EventType:
    made = EventType(new_id("et"), scope, name, "", None, None, T0, T0)
    return replace(made, **fields)  # type: ignore[arg-type]


async def test_an_entry_keeps_every_field(store: Store, ws: str) -> None:
    created = entry(
        ws, "order.created", schema={"type": "object"}, example={"id": 1},
        schemas={"1": {"type": "array"}, "2": {"type": "object"}}, archived=True,
        deprecated=True, feature_flags=("beta", "eu"), group_name="orders", enforce=True,
    )  # fmt: skip
    plain = entry(ws, "a.plain", description="no schema")
    await store.catalog.save_event_type(created, create=True)
    await store.catalog.save_event_type(plain, create=True)
    with pytest.raises(Conflict):
        await store.catalog.save_event_type(replace(created, id=new_id("et")), create=True)
    assert await store.catalog.get_event_type(ws, "order.created") == created
    assert await store.catalog.get_event_type("ws_other", "order.created") is None
    assert await store.catalog.list_event_types(ws) == [plain, created]

    changed = replace(
        created, description="d", schema=None, example=[1, "x"], updated_at=T0 + 1,
        schemas=None, archived=False, deprecated=False, feature_flags=(), group_name=None,
        enforce=False,
    )  # fmt: skip
    await store.catalog.save_event_type(changed, create=False)
    assert await store.catalog.get_event_type(ws, "order.created") == changed
    assert await store.catalog.delete_event_type(ws, "order.created") is True
    assert await store.catalog.delete_event_type(ws, "order.created") is False
    assert await store.catalog.list_event_types(ws) == [plain]


async def test_a_schema_stored_before_versions_reads_as_version_1(store: Store, ws: str) -> None:
    """An entry whose ``schemas`` column is empty (written before it existed)."""
    old = entry(ws, "legacy", schema={"type": "object"})
    await store.catalog.save_event_type(old, create=True)
    found = await store.catalog.get_event_type(ws, "legacy")
    assert found == replace(old, schemas={"1": {"type": "object"}})


async def test_the_shared_catalog_is_its_own_scope(store: Store, ws: str) -> None:
    shared = entry(SHARED_CATALOG, "user.signup", description="shared")
    await store.catalog.save_event_type(shared, create=True)
    mine = entry(ws, "user.signup", description="mine")
    await store.catalog.save_event_type(mine, create=True)  # the same name in another scope
    with pytest.raises(Conflict):
        await store.catalog.save_event_type(replace(shared, id=new_id("et")), create=True)
    assert await store.catalog.get_event_type(SHARED_CATALOG, "user.signup") == shared
    assert await store.catalog.list_event_types(SHARED_CATALOG) == [shared]
    assert await store.catalog.delete_event_type(SHARED_CATALOG, "user.signup") is True
    assert await store.catalog.get_event_type(ws, "user.signup") == mine


async def test_a_workspace_sees_its_own_entries_over_the_shared_ones(store: Store, ws: str) -> None:
    other = await workspace(store, "other")
    shared = [
        entry(SHARED_CATALOG, "a.shared"),
        entry(SHARED_CATALOG, "b.both", description="shared"),
        entry(SHARED_CATALOG, "c.archived", archived=True),
    ]
    for et in shared:
        await store.catalog.save_event_type(et, create=True)
    own = entry(ws, "b.both", description="own")
    archived_own = entry(ws, "d.old", archived=True)
    for et in (own, archived_own, entry(other, "e.theirs")):
        await store.catalog.save_event_type(et, create=True)

    seen = await store.catalog.workspace_event_types(ws)
    assert seen == [shared[0], own, shared[2], archived_own]
    live = await store.catalog.workspace_event_types(ws, include_archived=False)
    assert live == [shared[0], own]
    assert await store.catalog.find_event_type(ws, "b.both") == own
    assert await store.catalog.find_event_type(other, "b.both") == shared[1]
    assert await store.catalog.find_event_type(ws, "a.shared") == shared[0]
    assert await store.catalog.find_event_type(ws, "e.theirs") is None


async def test_the_shared_catalog_pages_by_name(store: Store) -> None:
    for name in ("d", "a", "c", "b", "e"):
        archived = name == "c"
        await store.catalog.save_event_type(
            entry(SHARED_CATALOG, name, archived=archived), create=True
        )
    first = await store.catalog.page_event_types(SHARED_CATALOG, limit=2)
    assert [et.name for et in first.items] == ["a", "b"]
    assert first.next_cursor == "b"
    second = await store.catalog.page_event_types(SHARED_CATALOG, limit=2, after="b")
    assert ([et.name for et in second.items], second.next_cursor) == (["d", "e"], None)
    every = await store.catalog.page_event_types(SHARED_CATALOG, limit=10, include_archived=True)
    assert [et.name for et in every.items] == ["a", "b", "c", "d", "e"]
    assert every.next_cursor is None
    back = await store.catalog.page_event_types(SHARED_CATALOG, limit=1, before="d")
    assert ([et.name for et in back.items], back.next_cursor) == (["b"], "b")
    start = await store.catalog.page_event_types(SHARED_CATALOG, limit=2, before="d")
    assert ([et.name for et in start.items], start.next_cursor) == (["a", "b"], None)


async def test_a_workspace_catalog_change_moves_its_config_version(store: Store, ws: str) -> None:
    """Publishing caches a workspace's catalog under its config version."""
    before = await store.config.config_version(ws) or 0
    et = entry(ws, "x.y")
    await store.catalog.save_event_type(et, create=True)
    await store.catalog.save_event_type(replace(et, enforce=True), create=False)
    await store.catalog.delete_event_type(ws, "x.y")
    assert await store.config.config_version(ws) == before + 3
    await store.catalog.save_event_type(entry(SHARED_CATALOG, "x.y"), create=True)
    assert await store.config.config_version(ws) == before + 3
