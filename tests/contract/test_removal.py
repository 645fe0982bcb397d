"""Deleting a workspace on SQLite and PostgreSQL: its pending deliveries counted (held and leased
ones included), every row it owns in every table deleted and nothing of anybody else's, and a
worker's late result for one of its deliveries written nowhere."""

from __future__ import annotations

import re

import pytest

from hookline.domain.entities import Change
from hookline.domain.ids import new_id
from hookline.domain.models import (
    ApiKey,
    AuditEntry,
    DeliveryStatus,
    Flow,
    OperatorKey,
    PortalLink,
)
from hookline.domain.publication import new_delivery, new_event
from hookline.store import Store
from hookline.store.items import PublishItem, WindowSpec
from hookline.store.statements.removal import RemovalSql
from hookline.store.tables import metadata
from tests.contract.test_entities import LABELS, state
from tests.contract.test_inspector import capture, new_bin
from tests.contract.test_store import (
    T0,
    claim,
    execute_raw,
    outcome,
    publish,
    webhook,
    workspace,
)

PENDING, SUCCEEDED, FAILED = DeliveryStatus.PENDING, DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED
#: Every table with a ``workspace_id`` column: the rows a workspace owns.
OWNED = sorted(t.name for t in metadata.sorted_tables if "workspace_id" in t.c)


async def event_type(db_url: str, workspace_id: str, name: str) -> None:
    """A catalog entry, written past the store (``''``: the shared catalog's)."""
    await execute_raw(
        db_url,
        "INSERT INTO event_types (id, workspace_id, name, description, created_at, updated_at)"
        f" VALUES ('{new_id('et')}', '{workspace_id}', '{name}', '', {T0}, {T0})",
    )


async def populate(store: Store, db_url: str, ws: str) -> None:
    """At least one row of everything a workspace can own: a key, a catalog entry, a flow,
    webhooks (one disabled), events (one with an idempotency key), deliveries and attempts, a
    window with its links, an entity, a bin with a capture (and its usage), a portal link,
    theme and audit entry."""
    await store.config.create_api_key(ApiKey(new_id("key"), ws, "ci", "hlk_x", f"h-{ws}", T0))
    await event_type(db_url, ws, "order.paid")
    flow = Flow(new_id("flow"), ws, "eu", "", T0, T0)
    await store.config.save_flow(flow, create=True)
    hook = await webhook(store, ws, "hook", flow=flow.id)
    off = await webhook(store, ws, "off")
    for n in range(5):
        await publish(store, ws, [hook, off], at=T0 + n)
    await store.config.set_webhook_enabled(off.id, False, "paused", T0)
    keyed = new_event(ws, "order.paid", {"n": 2}, f"key-{ws}", T0)
    await store.publishing.publish(keyed, [new_delivery(keyed, hook.id, T0)])
    collected = new_event(ws, "order.paid", {"n": 1}, None, T0)
    await store.publishing.publish_many([PublishItem(collected, (), [WindowSpec(hook.id, 60)])])
    claimed = [c for c in await claim(store, T0 + 10) if c.delivery.workspace_id == ws]
    await store.queue.record([outcome(c, PENDING, at=T0 + 10) for c in claimed[:2]], T0 + 10)
    change = Change("created", LABELS, None, state(1, T0), None)
    entity_event = new_event(ws, change.event_type, {}, None, T0)
    delivery = new_delivery(entity_event, hook.id, T0)
    await store.entities.commit_entity_change(ws, "orders/1", change, entity_event, [delivery])
    await new_bin(store, ws, f"bin_{ws}")
    await capture(store, f"bin_{ws}", b"captured")
    link = PortalLink(new_id("pl"), ws, f"portal-{ws}", T0, T0 + 3600, "admin")
    await store.portal.create_link(link)
    await store.portal.put_theme(ws, {"product_name": "Acme"}, T0)
    await store.portal.add_audit(AuditEntry(new_id("aud"), ws, T0, "admin", "portal.opened"))


async def owned(db_url: str, ws: str) -> dict[str, int]:
    """How many rows of each table are the workspace's (its row in ``workspaces``, the window
    links of its deliveries in ``delivery_events``)."""
    counts = await execute_raw(
        db_url,
        *(f"SELECT COUNT(*) FROM {table} WHERE workspace_id = '{ws}'" for table in OWNED),
        f"SELECT COUNT(*) FROM workspaces WHERE id = '{ws}'",
        "SELECT COUNT(*) FROM delivery_events de JOIN events e ON e.id = de.event_id"
        f" WHERE e.workspace_id = '{ws}'",
    )
    return dict(zip([*OWNED, "workspaces", "delivery_events"], map(int, counts), strict=True))


async def test_deleting_a_workspace_deletes_every_row_it_owns_and_nothing_else(
    store: Store, db_url: str
) -> None:
    doomed, kept = await workspace(store, "doomed"), await workspace(store, "kept")
    for ws in (doomed, kept):
        await populate(store, db_url, ws)
    await event_type(db_url, "", "order.paid")  # the shared catalog's entry of the same name
    operator = OperatorKey(new_id("opk"), "deploy", "hlo_abcdef", "opk-hash", T0)
    await store.operators.create_operator_key(operator)
    before = await owned(db_url, doomed)
    empty = [table for table, n in before.items() if n == 0]
    assert empty == [], "populate() must write a row to every table a workspace owns"
    kept_before = await owned(db_url, kept)
    assert before["deliveries"] > 2 and before["events"] > 2  # several batches of two

    assert await store.removal.delete_workspace(doomed, batch=2) is True

    assert await owned(db_url, doomed) == dict.fromkeys(before, 0)
    assert await owned(db_url, kept) == kept_before
    shared = await execute_raw(db_url, "SELECT COUNT(*) FROM event_types WHERE workspace_id = ''")
    assert shared == [1]
    assert await store.operators.find_operator_key("opk-hash") == operator
    assert await store.config.get_workspace(doomed) is None
    assert await store.config.config_version(doomed) is None  # routing knows it is gone
    assert await store.removal.delete_workspace(doomed) is False


async def test_the_final_transaction_names_every_table_a_workspace_owns() -> None:
    """A table that gains a ``workspace_id`` must be cleared by the removal too."""
    statements = RemovalSql()._asdict()
    cleared = {
        found.group(1)
        for name, sql in statements.items()
        if name.startswith("clear_") and (found := re.match(r"DELETE FROM (\w+) ", sql))
    }
    assert cleared == {*OWNED, "delivery_events"}
    assert statements["workspace"].startswith("DELETE FROM workspaces WHERE id = $1")


async def test_pending_deliveries_count_due_held_leased_and_scheduled_ones(
    store: Store, ws: str
) -> None:
    hook, off = await webhook(store, ws, "on"), await webhook(store, ws, "off")
    await publish(store, ws, [hook], at=T0)
    await publish(store, ws, [hook], at=T0 + 1)
    [first, second] = await claim(store, T0 + 1)
    await store.queue.record(
        [outcome(first, SUCCEEDED, at=T0 + 1), outcome(second, FAILED, at=T0 + 1)], T0 + 1
    )
    assert await store.removal.pending_deliveries(ws) == 0  # finished ones do not count
    await publish(store, ws, [hook], at=T0 + 2)
    assert len(await claim(store, T0 + 2)) == 1  # leased by a worker now
    await publish(store, ws, [off], at=T0 + 3)
    await store.config.set_webhook_enabled(off.id, False, "paused", T0 + 3)  # held
    await publish(store, ws, [hook], at=T0 + 4, due=T0 + 3600)  # a retry scheduled later
    other = await workspace(store, "other")
    await publish(store, other, [await webhook(store, other)], at=T0)
    assert await store.removal.pending_deliveries(ws) == 3
    assert await store.removal.pending_deliveries("ws_missing") == 0


async def test_a_result_recorded_after_the_deletion_writes_nothing(
    store: Store, db_url: str, ws: str
) -> None:
    """A worker holding a lease when the workspace is deleted records its result as usual:
    no error, and nothing comes back (no attempt, no delivery, no webhook disabled again)."""
    hook = await webhook(store, ws)
    await publish(store, ws, [hook])
    await publish(store, ws, [hook])
    first, second = await claim(store, T0)
    assert await store.removal.delete_workspace(ws) is True
    gone = outcome(first, FAILED, at=T0 + 1, http_status=410, disable="410 Gone")
    await store.queue.record([gone], T0 + 1)  # one result per delivery (PostgreSQL's arrays)
    again = outcome(second, PENDING, at=T0 + 1)
    await store.queue.record([again, again], T0 + 1)  # two for one (row by row)
    assert set((await owned(db_url, ws)).values()) == {0}


async def test_the_shared_catalog_is_not_a_workspace(store: Store) -> None:
    with pytest.raises(ValueError, match="shared event-type catalog"):
        await store.removal.delete_workspace("")
