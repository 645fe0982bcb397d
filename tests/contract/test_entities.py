"""The entity repository on SQLite and PostgreSQL: a change applies only to the version it was
computed from, and commits together with its event and deliveries, or not at all."""

from __future__ import annotations

from hookline.domain.entities import Change, EntityState, Labels, Operation
from hookline.domain.models import Webhook
from hookline.domain.publication import new_delivery, new_event
from hookline.store import Store
from hookline.store.records import WindowSpec
from tests.contract.test_store import T0, webhook

LABELS = Labels("order", "order_1", "org_1")
PATH = "orders/order_1"


def state(total: int, at: float) -> EntityState:
    return EntityState({"total": total, "big": 2**70}, LABELS, T0, at)


async def commit(
    store: Store, ws: str, hook: Webhook, old: EntityState | None, new: EntityState | None
) -> list[str] | None:
    operation: Operation = "created" if old is None else "deleted" if new is None else "updated"
    change = Change(operation, LABELS, old, new, None)
    event = new_event(ws, change.event_type, {"total": 1}, None, T0)
    sent = await store.entities.commit_entity_change(
        ws, PATH, change, event, [new_delivery(event, hook.id, T0)]
    )
    return None if sent is None else [d.event_id for d in sent]


async def test_an_entity_lives_through_create_update_and_delete(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    assert await store.entities.get_entity(ws, PATH) is None
    created = state(1, T0)
    assert await commit(store, ws, hook, None, created) is not None
    assert await store.entities.get_entity(ws, PATH) == created  # big integers survive
    updated = state(2, T0 + 1)
    assert await commit(store, ws, hook, created, updated) is not None
    assert await store.entities.get_entity(ws, PATH) == updated
    assert await commit(store, ws, hook, updated, None) is not None
    assert await store.entities.get_entity(ws, PATH) is None


async def test_a_change_from_a_stale_version_writes_nothing(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    created = state(1, T0)
    assert await commit(store, ws, hook, None, created) is not None
    assert await commit(store, ws, hook, None, state(9, T0 + 1)) is None  # exists already
    assert await commit(store, ws, hook, state(1, T0 - 1), state(9, T0 + 1)) is None
    assert await commit(store, ws, hook, state(1, T0 - 1), None) is None
    assert await store.entities.get_entity(ws, PATH) == created
    events = await store.history.list_events(ws, limit=10)
    assert len(events.items) == 1  # only the first change's event was stored


async def test_the_event_joins_windows_like_a_publish(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    change = Change("created", LABELS, None, state(1, T0), None)
    event = new_event(ws, change.event_type, {}, None, T0)
    sent = await store.entities.commit_entity_change(
        ws, PATH, change, event, [], windows=[WindowSpec(hook.id, 60)], fifo=()
    )
    assert sent is not None and [d.webhook_id for d in sent] == [hook.id]
    assert await store.history.get_delivery(ws, sent[0].id) is not None
