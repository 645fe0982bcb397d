"""The catalog's checks of what is published, on a real SQLite store: what they cost a publish
(nothing read once a workspace's rules are cached), when they read again (a new config version,
a shared change made here at once, one made by another process after the TTL), and validators
compiled once per entry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from hookline.domain import payload_schemas
from hookline.domain.ids import new_id
from hookline.domain.models import SHARED_CATALOG, EventType, Workspace
from hookline.errors import ValidationFailed
from hookline.services import catalog_gate, publishing
from hookline.services.catalog_gate import CatalogGate, Checked
from hookline.services.routing import Router
from hookline.settings import Settings
from hookline.store import PublishResult, Store, open_store
from hookline.store.group_commit import GroupCommit
from hookline.store.migrate import upgrade

WS = "ws_gate"
SCHEMA = {"type": "object", "required": ["id"]}


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Reads:
    """How often the gate read the store (``list_event_types``, ``get_workspace``)."""

    count: int = 0

    def spy(self, read: Callable[[str], Any]) -> Callable[[str], Any]:
        async def counted(scope: str) -> Any:
            self.count += 1
            return await read(scope)

        return counted


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    url = f"sqlite:///{tmp_path}/hookline.db"
    await asyncio.to_thread(upgrade, url)
    opened = await open_store(Settings(database_url=url))
    try:
        await opened.config.create_workspace(Workspace(WS, "gate", 0.0))
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def reads(store: Store, monkeypatch: pytest.MonkeyPatch) -> Reads:
    counter = Reads()
    monkeypatch.setattr(
        store.catalog, "list_event_types", counter.spy(store.catalog.list_event_types)
    )
    monkeypatch.setattr(store.config, "get_workspace", counter.spy(store.config.get_workspace))
    return counter


def enforced(scope: str, name: str) -> EventType:
    return EventType(
        new_id("et"), scope, name, "", SCHEMA, None, 1.0, 1.0, schemas={"1": SCHEMA}, enforce=True
    )


async def version(store: Store) -> int:
    found = await store.config.config_version(WS)
    assert found is not None
    return found


async def refused(gate: CatalogGate, store: Store, type: str, payload: Any) -> str | None:
    try:
        await gate.check(store, WS, await version(store), type, payload, 0)
    except ValidationFailed as exc:
        return exc.code
    return None


async def test_cached_rules_cost_a_publish_no_read(store: Store, reads: Reads) -> None:
    gate = CatalogGate(clock=Clock())
    assert await refused(gate, store, "a.b", {}) is None
    first = reads.count
    assert first == 3  # the shared catalog, the workspace, its catalog
    for _ in range(50):
        assert await refused(gate, store, "a.b", {}) is None
    assert reads.count == first

    # A change of the workspace's catalog moves its config version: the rules are read again.
    await store.catalog.save_event_type(enforced(WS, "a.b"), create=True)
    assert await refused(gate, store, "a.b", {}) == "schema_mismatch"
    assert reads.count == first + 2
    await store.config.update_workspace(Workspace(WS, "gate", 0.0, strict_event_types=True))
    assert await refused(gate, store, "c.d", {}) == "unknown_event_type"
    assert await refused(gate, store, "a.b", {"id": 1}) is None


async def test_a_shared_change_counts_here_at_once_elsewhere_after_the_ttl(store: Store) -> None:
    clock = Clock()
    here, elsewhere = CatalogGate(clock=clock), CatalogGate(clock=clock)
    for gate in (here, elsewhere):
        assert await refused(gate, store, "user.signup", {}) is None
    await store.catalog.save_event_type(enforced(SHARED_CATALOG, "user.signup"), create=True)
    here.shared_changed()
    assert await refused(here, store, "user.signup", {}) == "schema_mismatch"
    assert await refused(elsewhere, store, "user.signup", {}) is None  # its copy is fresh
    clock.now += catalog_gate.SHARED_TTL_SECONDS
    assert await refused(elsewhere, store, "user.signup", {}) == "schema_mismatch"


async def test_a_validator_is_compiled_once_per_entry_version(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled: list[dict[str, Any]] = []
    original = payload_schemas.compile_schema

    def compile_schema(schema: dict[str, Any]) -> Any:
        compiled.append(schema)
        return original(schema)

    monkeypatch.setattr(catalog_gate, "compile_schema", compile_schema)
    entry = enforced(SHARED_CATALOG, "user.signup")
    await store.catalog.save_event_type(entry, create=True)
    gate = CatalogGate(clock=Clock())
    other = "ws_other"
    await store.config.create_workspace(Workspace(other, "other", 0.0))
    for workspace in (WS, other, WS):
        v = await store.config.config_version(workspace) or 0
        with pytest.raises(ValidationFailed):
            await gate.check(store, workspace, v, "user.signup", {}, 0)
    assert len(compiled) == 1  # shared by both workspaces
    changed = replace(entry, schema={"type": "array"}, updated_at=2.0)
    await store.catalog.save_event_type(changed, create=False)
    gate.shared_changed()
    with pytest.raises(ValidationFailed):
        await gate.check(store, WS, await version(store), "user.signup", {}, 0)
    assert compiled == [SCHEMA, {"type": "array"}]


async def test_a_batch_names_each_refused_event(store: Store) -> None:
    await store.catalog.save_event_type(enforced(WS, "a.b"), create=True)
    gate = CatalogGate(clock=Clock())
    events = [Checked("a.b", {"id": 1}), Checked("a.b", []), Checked("x.y", 5)]
    with pytest.raises(ValidationFailed) as caught:
        await gate.check_all(store, WS, await version(store), events)
    assert [p.field for p in caught.value.problems] == ["events.1.payload"]


async def test_a_publish_refused_by_cached_rules_is_checked_again_against_the_current_ones(
    store: Store, tmp_path: Path
) -> None:
    """A grouped publish routes and checks with what its process has cached; a refusal by those
    rules is not final until the rules are read again, so another process having relaxed them
    takes effect on the very next publish."""
    router, gate, group = Router(store), CatalogGate(clock=Clock()), GroupCommit(store)

    async def publish_unknown() -> PublishResult | None:
        return await publishing.publish(
            store, router, WS, "c.d", {}, idempotency_key=None, now=1.0, group=group, gate=gate
        )

    await store.config.update_workspace(Workspace(WS, "gate", 0.0, strict_event_types=True))
    with pytest.raises(ValidationFailed, match=r"c\.d"):
        await publish_unknown()  # the rules and routes are cached now, strict
    other = await open_store(Settings(database_url=f"sqlite:///{tmp_path}/hookline.db"))
    try:  # another process turns strict mode off
        await other.config.update_workspace(Workspace(WS, "gate", 0.0, strict_event_types=False))
    finally:
        await other.close()
    published = await publish_unknown()
    assert published is not None and published.created
