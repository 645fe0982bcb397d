"""The store contract: every domain operation of ``Store``, the same tests on every database.

Each test runs on SQLite and on PostgreSQL through ``open_store``. Time is passed in explicitly,
so leases, due dates and time ranges are exact.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, closing
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import asyncpg
import orjson
import pytest

from hookline.domain.ids import new_id
from hookline.domain.models import (
    ApiKey,
    Attempt,
    AttemptOutcome,
    Claimed,
    DeliveryStatus,
    Flow,
    SecretEntry,
    Webhook,
    WebhookConfig,
    Workspace,
)
from hookline.domain.publication import new_delivery, new_event
from hookline.domain.secretbox import SecretBox
from hookline.errors import Conflict
from hookline.settings import Settings
from hookline.store import DeliveryQuery, PublishResult, QueueStats, Store, open_store
from hookline.store.migrate import upgrade
from hookline.store.tables import metadata
from tests.conftest import _create_pg_schema_db, _drop_pg_db, require_postgres

T0 = 1_800_000_000.0
PENDING, SUCCEEDED, FAILED = DeliveryStatus.PENDING, DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED


TABLES = [table.name for table in metadata.sorted_tables]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def module_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One migrated database per backend for this module; ``db_url`` empties it for each test.

    Like ``database_url`` (same parameters, marks and skip-or-fail rule) but created once: a
    fresh PostgreSQL database costs about a second, and this module has thirty tests.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('store')}/hookline.db"
        upgrade(url)
        yield url
        return
    require_postgres()
    dsn = asyncio.run(_create_pg_schema_db())
    try:
        yield dsn
    finally:
        asyncio.run(_drop_pg_db(dsn))


@pytest.fixture
async def db_url(module_database: str) -> str:
    """The module's database with every table empty."""
    await execute_raw(module_database, *(f"DELETE FROM {table}" for table in TABLES))
    return module_database


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    async with opened(db_url) as s:
        yield s


@pytest.fixture
async def ws(store: Store) -> str:
    return await workspace(store)


@asynccontextmanager
async def opened(database_url: str, **settings: Any) -> AsyncIterator[Store]:
    store = await open_store(Settings(database_url=database_url, **settings))
    try:
        yield store
    finally:
        await store.close()


async def execute_raw(database_url: str, *statements: str) -> list[Any]:
    """Run SQL past the store, straight on the driver; the first column of each first row."""
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(path, isolation_level=None)) as lite:
            return [(lite.execute(sql).fetchone() or [None])[0] for sql in statements]
    conn = await asyncpg.connect(database_url)
    try:
        return [await conn.fetchval(sql) for sql in statements]
    finally:
        await conn.close()


async def workspace(store: Store, name: str = "acme") -> str:
    created = Workspace(new_id("ws"), name, T0)
    await store.config.create_workspace(created)
    return created.id


async def webhook(
    store: Store, ws: str, name: str = "hook", *, secrets: Sequence[str] = (), **config: Any
) -> Webhook:
    cfg = WebhookConfig(name=name, url=f"https://example.com/{quote(name)}", **config)
    hook = Webhook(new_id("wh"), ws, cfg, tuple(SecretEntry(s) for s in secrets), T0, T0)
    await store.config.save_webhook(hook, create=True)
    return hook


async def publish(
    store: Store,
    ws: str,
    hooks: Sequence[Webhook],
    *,
    at: float = T0,
    due: float | None = None,
    key: str | None = None,
    type: str = "order.created",
) -> PublishResult:
    event = new_event(ws, type, {"at": at}, key, at)
    return await store.publishing.publish(
        event, [new_delivery(event, h.id, at, due=due) for h in hooks]
    )


async def claim(
    store: Store,
    now: float,
    *,
    limit: int = 100,
    lease: float = 60.0,
    exclude: Sequence[str] = (),
    worker: str = "w1",
    rooms: dict[str, int] | None = None,
    default_room: int | None = None,
) -> list[Claimed]:
    return await store.queue.claim(
        worker,
        limit=limit,
        lease_seconds=lease,
        exclude=exclude,
        now=now,
        rooms=rooms,
        default_room=default_room,
    )


def outcome(
    claimed: Claimed,
    status: DeliveryStatus,
    *,
    at: float,
    retry_at: float | None = None,
    http_status: int | None = 200,
    error: str | None = None,
    disable: str | None = None,
) -> AttemptOutcome:
    url = claimed.webhook.config.url
    assert url is not None  # an HTTP webhook
    attempt = Attempt(
        id=new_id("att"),
        delivery_id=claimed.delivery.id,
        workspace_id=claimed.delivery.workspace_id,
        webhook_id=claimed.webhook.id,
        number=claimed.delivery.attempts + 1,
        started_at=at,
        duration_ms=12.5,
        request_method="POST",
        request_url=url,
        request_headers={"content-type": "application/json"},
        request_body=claimed.event.body,
        response_status=http_status,
        response_headers={"x-reply": "1"} if http_status else {},
        response_body="ok" if http_status else "",
        error_class=None if error is None else "timeout",
        error_message=error,
    )
    return AttemptOutcome(attempt, status, at if retry_at is None else retry_at, disable)


async def finish(store: Store, now: float, statuses: dict[str, DeliveryStatus]) -> None:
    """Claim every due delivery and record one attempt with the status given per delivery."""
    found = await claim(store, now)
    await store.queue.record(
        [outcome(c, statuses.get(c.delivery.id, PENDING), at=now) for c in found], now
    )


def ids(items: Sequence[Any]) -> list[str]:
    return [item.id for item in items]


async def routed(store: Store, ws: str) -> tuple[int, list[Webhook]] | None:
    """The routing snapshot with its webhooks in id order (the store promises no order)."""
    snapshot = await store.config.routing_snapshot(ws)
    if snapshot is None:
        return None
    return snapshot.version, sorted(snapshot.webhooks, key=lambda w: w.id)


# -- lifecycle --------------------------------------------------------------------------------
async def test_ping_and_waiting_for_work(store: Store, ws: str) -> None:
    await store.ping()
    await asyncio.wait_for(store.wait_for_work(0.05), 5)  # nothing to do: the timeout ends it
    waiting = asyncio.create_task(store.wait_for_work(30))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await publish(store, ws, [await webhook(store, ws)])
    await asyncio.wait_for(waiting, 5)  # a publish wakes this process's workers at once


# -- meta, workspaces, api keys ---------------------------------------------------------------
async def test_meta_is_set_only_once(store: Store) -> None:
    assert await store.config.get_meta("admin") is None
    assert await store.config.set_meta_if_absent("admin", "first") is True
    assert await store.config.set_meta_if_absent("admin", "second") is False
    assert await store.config.get_meta("admin") == "first"
    # Every process asking with its own fresh value gets the one kept first.
    assert await store.config.meta_once("key", "made-here") == "made-here"
    assert await store.config.meta_once("key", "made-elsewhere") == "made-here"


async def test_workspaces(store: Store) -> None:
    first, second = Workspace(new_id("ws"), "acme", T0), Workspace(new_id("ws"), "beta", T0 + 1)
    await store.config.create_workspace(second)
    await store.config.create_workspace(first)
    assert await store.config.get_workspace(first.id) == first
    assert await store.config.get_workspace("ws_missing") is None
    assert await store.config.list_workspaces() == sorted([first, second], key=lambda w: w.id)
    assert await store.config.config_version(first.id) == 0
    assert await store.config.config_version("ws_missing") is None


async def test_api_key_is_found_by_hash_until_revoked(store: Store, ws: str) -> None:
    key = ApiKey(new_id("key"), ws, "ci", "hlk_abcd", "hash-1", T0)
    other = ApiKey(new_id("key"), ws, "cd", "hlk_efgh", "hash-2", T0)
    await store.config.create_api_key(key)
    await store.config.create_api_key(other)
    assert await store.config.find_api_key("hash-1") == key
    assert await store.config.find_api_key("hash-unknown") is None
    assert await store.config.revoke_api_key("ws_other", key.id, T0 + 5) is False
    assert await store.config.revoke_api_key(ws, key.id, T0 + 5) is True
    assert await store.config.revoke_api_key(ws, key.id, T0 + 6) is False
    assert await store.config.find_api_key("hash-1") is None
    assert await store.config.find_api_key("hash-2") == other
    listed = {k.id: k for k in await store.config.list_api_keys(ws)}
    assert listed == {key.id: replace(key, revoked_at=T0 + 5), other.id: other}


async def test_revoked_sessions_are_kept_until_they_expire(store: Store) -> None:
    assert await store.config.session_revoked("sid-1") is False
    await store.config.revoke_session("sid-1", T0 + 100)
    await store.config.revoke_session("sid-1", T0 + 100)  # signing out twice is not an error
    await store.config.revoke_session("sid-2", T0 + 200)
    assert await store.config.session_revoked("sid-1") is True
    assert await store.config.session_revoked("sid-3") is False
    assert await store.config.purge_revoked_sessions(T0 + 99) == 0
    assert await store.config.purge_revoked_sessions(T0 + 100) == 1
    assert await store.config.session_revoked("sid-1") is False
    assert await store.config.session_revoked("sid-2") is True


async def test_flows(store: Store, ws: str) -> None:
    eu, us = (Flow(new_id("flow"), ws, name, "", T0, T0) for name in ("eu", "us"))
    await store.config.save_flow(eu, create=True)
    await store.config.save_flow(us, create=True)
    with pytest.raises(Conflict):
        await store.config.save_flow(replace(eu, id=new_id("flow")), create=True)
    with pytest.raises(Conflict):
        await store.config.save_flow(replace(us, name="eu"), create=False)
    renamed = replace(us, name="americas", description="all of them", updated_at=T0 + 1)
    await store.config.save_flow(renamed, create=False)
    assert await store.config.get_flow(ws, us.id) == renamed
    assert await store.config.get_flow("ws_other", us.id) is None
    assert await store.config.list_flows(ws) == [renamed, eu]


async def test_deleting_a_flow_detaches_its_webhooks(store: Store, ws: str) -> None:
    flow = Flow(new_id("flow"), ws, "eu", "", T0, T0)
    await store.config.save_flow(flow, create=True)
    inside = [await webhook(store, ws, f"in-{i}", flow=flow.id) for i in range(2)]
    outside = await webhook(store, ws, "out")
    assert await store.config.count_flow_webhooks(ws, flow.id) == 2
    assert await store.config.get_webhook(ws, inside[0].id) == inside[0]
    assert await store.config.config_version(ws) == 4  # the flow and two webhooks
    assert await store.config.delete_flow(ws, flow.id) is True
    assert await store.config.delete_flow(ws, flow.id) is False
    assert await store.config.get_flow(ws, flow.id) is None
    assert await store.config.count_flow_webhooks(ws, flow.id) == 0
    for hook in inside:
        found = await store.config.get_webhook(ws, hook.id)
        assert found is not None and found.config.flow is None
    assert (await store.config.list_webhooks(ws, limit=10, flow_id=flow.id)).items == []
    assert await store.config.get_webhook(ws, outside.id) == outside
    assert await store.config.config_version(ws) == 5  # routers reload the detached webhooks


# -- webhooks ---------------------------------------------------------------------------------
async def test_webhook_create_update_and_names(store: Store, ws: str) -> None:
    hook = await webhook(store, ws, "orders", events=["order.*"], headers={"X-Team": "a"})
    other = await webhook(store, ws, "billing")
    assert await store.config.config_version(ws) == 2
    assert await store.config.get_webhook(ws, hook.id) == hook
    assert await store.config.get_webhook("ws_other", hook.id) is None
    with pytest.raises(Conflict):
        await webhook(store, ws, "orders")
    with pytest.raises(Conflict):
        await store.config.save_webhook(replace(other, config=hook.config), create=False)
    assert await store.config.config_version(ws) == 2  # a rejected save changes nothing
    config = hook.config.model_copy(update={"name": "orders-v2", "retry_schedule": [1.0, 5.0]})
    changed = replace(hook, config=config, updated_at=T0 + 1)
    await store.config.save_webhook(changed, create=False)
    assert await store.config.get_webhook(ws, hook.id) == changed
    assert await store.config.config_version(ws) == 3
    await webhook(store, await workspace(store, "beta"), "orders")  # names are per workspace


async def test_list_webhooks_pages_and_filters(store: Store, ws: str) -> None:
    flow = Flow(new_id("flow"), ws, "eu", "", T0, T0)
    await store.config.save_flow(flow, create=True)
    names = ["Orders EU", "orders us", "Über billing", "ship_a", "shipxa"]
    hooks = [await webhook(store, ws, n, flow=flow.id if "rders" in n else None) for n in names]
    await webhook(store, await workspace(store, "beta"), "orders elsewhere")
    await store.config.set_webhook_enabled(hooks[2].id, False, "paused", T0 + 1)
    pages, cursor = [], None
    while True:
        page = await store.config.list_webhooks(ws, limit=2, cursor=cursor)
        pages.append(ids(page.items))
        if (cursor := page.next_cursor) is None:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [i for page in pages for i in page] == sorted(ids(hooks))

    async def listed(**filters: Any) -> list[str]:
        return sorted(ids((await store.config.list_webhooks(ws, limit=50, **filters)).items))

    assert await listed(enabled=False) == [hooks[2].id]
    assert await listed(enabled=True) == sorted(ids(hooks[:2] + hooks[3:]))
    assert await listed(flow_id=flow.id) == sorted(ids(hooks[:2]))
    assert await listed(search="ORDERS") == sorted(ids(hooks[:2]))
    assert await listed(search="über") == [hooks[2].id]  # case folding beyond ASCII
    assert await listed(search="ship_") == [hooks[3].id]  # a literal substring, not a pattern
    assert await listed(search="%") == []
    assert await listed(search="orders", enabled=False) == []
    first = await store.config.list_webhooks(ws, limit=3, enabled=True)
    rest = await store.config.list_webhooks(ws, limit=3, enabled=True, cursor=first.next_cursor)
    assert ids(first.items + rest.items) == sorted(ids(hooks[:2] + hooks[3:]))
    assert rest.next_cursor is None


async def test_enabling_webhooks_and_the_routing_snapshot(store: Store, ws: str) -> None:
    on, off = await webhook(store, ws, "on"), await webhook(store, ws, "off")
    assert await routed(store, ws) == (2, [on, off])
    await store.config.set_webhook_enabled(off.id, False, "endpoint answered 410 Gone", T0 + 1)
    disabled = await store.config.get_webhook(ws, off.id)
    assert disabled is not None and disabled.config.enabled is False
    assert disabled.disabled_reason == "endpoint answered 410 Gone"
    assert disabled.updated_at == T0 + 1
    assert await routed(store, ws) == (3, [on, disabled])  # routed still: its deliveries wait
    await store.config.set_webhook_enabled(off.id, True, None, T0 + 2)
    enabled = await store.config.get_webhook(ws, off.id)
    assert enabled is not None and enabled.config.enabled and enabled.disabled_reason is None
    assert await routed(store, ws) == (4, [on, replace(off, updated_at=T0 + 2)])
    await store.config.set_webhook_enabled("wh_missing", False, "x", T0 + 3)
    assert await store.config.config_version(ws) == 4
    assert await store.config.routing_snapshot("ws_missing") is None
    assert await routed(store, await workspace(store, "empty")) == (0, [])


async def test_deleting_a_webhook_removes_its_deliveries_and_attempts(
    store: Store, ws: str, db_url: str
) -> None:
    gone, kept = await webhook(store, ws, "gone"), await webhook(store, ws, "kept")
    published = await publish(store, ws, [gone, kept])
    await finish(store, T0, {d.id: FAILED for d in published.deliveries})
    doomed, survivor = published.deliveries
    await publish(store, ws, [gone], at=T0 + 1)
    [in_flight] = await claim(store, T0 + 1)
    assert await store.config.delete_webhook("ws_other", gone.id) is False
    assert await store.config.delete_webhook(ws, gone.id) is True
    assert await store.config.delete_webhook(ws, gone.id) is False
    await store.queue.record([outcome(in_flight, SUCCEEDED, at=T0 + 2)], T0 + 2)  # after the delete
    assert await store.config.get_webhook(ws, gone.id) is None
    assert await store.history.get_delivery(ws, doomed.id) is None
    assert await store.history.get_delivery(ws, in_flight.delivery.id) is None
    assert await store.history.list_attempts(ws, doomed.id) == []
    assert await store.history.get_delivery(ws, survivor.id) is not None
    assert len(await store.history.list_attempts(ws, survivor.id)) == 1
    assert await store.history.list_attempts("ws_other", survivor.id) == []
    assert await execute_raw(db_url, "SELECT COUNT(*) FROM attempts") == [1]  # no orphans
    assert await store.history.get_event(ws, published.event.id) == published.event
    assert await store.config.config_version(ws) == 3


async def test_an_attempt_that_sent_the_event_body_unchanged_keeps_no_copy_of_it(
    store: Store, ws: str, db_url: str
) -> None:
    hook = await webhook(store, ws)
    await publish(store, ws, [hook])
    [claimed] = await claim(store, T0)
    sent = replace(outcome(claimed, SUCCEEDED, at=T0 + 1).attempt, request_body_is_event=True)
    templated = replace(
        sent,
        id=new_id("att"),
        number=2,
        request_body='{"reshaped": true}',
        request_body_is_event=False,
    )
    await store.queue.record([AttemptOutcome(sent, PENDING, T0 + 1)], T0 + 1)
    await store.queue.record([AttemptOutcome(templated, SUCCEEDED, T0 + 2)], T0 + 2)
    # Read back whole: the first from the event, the second as stored.
    assert await store.history.list_attempts(ws, claimed.delivery.id) == [sent, templated]
    assert sent.request_body == claimed.event.body
    stored = "SELECT request_body FROM attempts WHERE id = '{}'"
    assert await execute_raw(db_url, stored.format(sent.id), stored.format(templated.id)) == [
        None,
        '{"reshaped": true}',
    ]


async def test_secrets_round_trip(store: Store, ws: str) -> None:
    hook = replace(
        await webhook(store, ws, secrets=["whsec_current"]),
        secrets=(SecretEntry("whsec_current"), SecretEntry("whsec_old", T0 + 3600)),
        updated_at=T0 + 1,
    )
    await store.config.save_webhook(hook, create=False)
    found = await store.config.get_webhook(ws, hook.id)
    assert found is not None and found.secrets == hook.secrets


async def test_secrets_are_encrypted_at_rest_with_a_key(db_url: str) -> None:
    async with opened(db_url, secret_key=SecretBox.generate_key()) as store:
        ws = await workspace(store)
        hook = await webhook(store, ws, secrets=["whsec_plaintext"])
        [stored] = await execute_raw(db_url, f"SELECT secrets FROM webhooks WHERE id = '{hook.id}'")
        assert "whsec_plaintext" not in stored
        assert all(s.startswith("fernet:") for s, _ in orjson.loads(stored))
        found = await store.config.get_webhook(ws, hook.id)
        assert found is not None and found.secrets == (SecretEntry("whsec_plaintext"),)
        await publish(store, ws, [hook])
        [claimed] = await claim(store, T0)
        assert claimed.webhook.secrets == (SecretEntry("whsec_plaintext"),)


# -- publishing, events, deliveries ------------------------------------------------------------
async def test_publish_stores_the_event_and_its_deliveries(store: Store, ws: str) -> None:
    hooks = [await webhook(store, ws, "a"), await webhook(store, ws, "b")]
    result = await publish(store, ws, hooks, due=T0 + 5)
    assert result.created is True
    assert await store.history.get_event(ws, result.event.id) == result.event
    assert await store.history.get_event("ws_other", result.event.id) is None
    for delivery in result.deliveries:
        assert await store.history.get_delivery(ws, delivery.id) == delivery
        assert await store.history.get_delivery("ws_other", delivery.id) is None
    no_hooks = await publish(store, ws, [])
    assert (
        no_hooks.created and await store.history.get_event(ws, no_hooks.event.id) == no_hooks.event
    )


async def test_publish_is_all_or_nothing(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    event = new_event(ws, "order.created", {}, None, T0)
    first = new_delivery(event, hook.id, T0)
    with pytest.raises((sqlite3.IntegrityError, asyncpg.UniqueViolationError)):
        await store.publishing.publish(event, [first, replace(first, webhook_id="wh_other")])
    assert await store.history.get_event(ws, event.id) is None
    assert (await store.history.list_deliveries(ws, DeliveryQuery())).items == []
    assert (
        await store.publishing.publish(event, [first])
    ).created  # the failed publish left nothing behind
    with pytest.raises(Conflict):  # an id collision is not an idempotent repeat
        await store.publishing.publish(replace(event, body="{}"), [])


async def test_idempotency_key_returns_the_first_event(store: Store, ws: str) -> None:
    hooks = [await webhook(store, ws, "a"), await webhook(store, ws, "b")]
    first = await publish(store, ws, hooks, key="order-1")
    again = await publish(store, ws, hooks[:1], key="order-1", at=T0 + 10)
    assert again == PublishResult(first.event, sorted(first.deliveries, key=lambda d: d.id), False)
    assert len((await store.history.list_deliveries(ws, DeliveryQuery())).items) == 2
    elsewhere = await publish(store, await workspace(store, "beta"), [], key="order-1")
    assert elsewhere.created
    unkeyed = [await publish(store, ws, hooks) for _ in range(3)]
    assert all(r.created for r in unkeyed)
    assert len((await store.history.list_events(ws, limit=10)).items) == 4


async def test_concurrent_publishes_with_one_key_create_one_event(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    results = await asyncio.gather(*(publish(store, ws, [hook], key="same") for _ in range(5)))
    assert sum(r.created for r in results) == 1
    assert len({r.event.id for r in results}) == 1
    assert len({r.deliveries[0].id for r in results}) == 1
    assert len((await store.history.list_deliveries(ws, DeliveryQuery())).items) == 1


async def test_list_events_pages_newest_first(store: Store, ws: str) -> None:
    types = ["order.created", "order.paid"] * 3
    events = [(await publish(store, ws, [], type=t, at=T0 + i)).event for i, t in enumerate(types)]
    await publish(store, await workspace(store, "beta"), [])
    seen, cursor = [], None
    while True:
        page = await store.history.list_events(ws, limit=4, cursor=cursor)
        seen += ids(page.items)
        if (cursor := page.next_cursor) is None:
            break
    assert seen == ids(events[::-1])
    paid = await store.history.list_events(ws, limit=2, type="order.paid")
    assert paid.items == [events[5], events[3]] and paid.next_cursor == events[3].id
    last = await store.history.list_events(ws, limit=2, type="order.paid", cursor=paid.next_cursor)
    assert last.items == [events[1]] and last.next_cursor is None


async def test_list_deliveries_filters_and_pages(store: Store, ws: str) -> None:
    a, b = await webhook(store, ws, "a"), await webhook(store, ws, "b")
    published = [await publish(store, ws, [a, b], at=T0 + 10 * i) for i in range(3)]
    beta = await workspace(store, "beta")
    await publish(store, beta, [await webhook(store, beta, "c")])
    everything = [d for p in published for d in p.deliveries]
    done = published[0].deliveries[0]
    await finish(store, T0 + 100, {d.id: SUCCEEDED if d == done else PENDING for d in everything})

    async def listed(**query: Any) -> list[str]:
        return ids((await store.history.list_deliveries(ws, DeliveryQuery(**query))).items)

    newest_first = ids(everything[::-1])
    assert await listed() == newest_first
    assert await listed(webhook_id=a.id) == [i for i in newest_first if i in ids(everything[::2])]
    assert await listed(event_id=published[1].event.id) == ids(published[1].deliveries[::-1])
    assert await listed(status=SUCCEEDED) == [done.id]
    assert await listed(status=PENDING) == newest_first[:-1]
    assert await listed(since=T0 + 10) == newest_first[:4]
    assert await listed(until=T0 + 10) == newest_first[4:]
    assert await listed(since=T0 + 10, until=T0 + 20, webhook_id=b.id) == [
        published[1].deliveries[1].id
    ]
    first = await store.history.list_deliveries(ws, DeliveryQuery(limit=4))
    rest = await store.history.list_deliveries(ws, DeliveryQuery(limit=4, cursor=first.next_cursor))
    assert ids(first.items + rest.items) == newest_first and rest.next_cursor is None


# -- the queue --------------------------------------------------------------------------------
async def test_claim_takes_due_deliveries_oldest_first(store: Store, ws: str) -> None:
    hook = await webhook(store, ws, secrets=["whsec_x"])
    late = await publish(store, ws, [hook], due=T0 + 100)
    early = await publish(store, ws, [hook], at=T0 + 1, due=T0 + 10)
    middle = await publish(store, ws, [hook], at=T0 + 2, due=T0 + 20)
    assert await claim(store, T0 + 5) == []
    [first] = await claim(store, T0 + 50, limit=1)
    assert first.delivery == early.deliveries[0]
    assert first.event == early.event
    assert first.webhook == hook
    [second] = await claim(store, T0 + 50)
    assert second.delivery.id == middle.deliveries[0].id
    assert ids([c.delivery for c in await claim(store, T0 + 100)]) == ids(late.deliveries)


async def test_claim_of_a_fan_out_shares_one_event_in_delivery_order(store: Store, ws: str) -> None:
    hooks = [await webhook(store, ws, f"h{i}") for i in range(5)]
    published = await publish(store, ws, hooks)
    claimed = await claim(store, T0)
    assert [c.delivery.id for c in claimed] == sorted(ids(published.deliveries))
    assert {c.webhook.id for c in claimed} == {h.id for h in hooks}
    assert all(c.event == published.event for c in claimed)
    # The event is read once per claim: a fan-out to thousands holds one copy of its body.
    assert len({id(c.event) for c in claimed}) == 1


async def test_lease_hides_a_claimed_delivery_until_it_expires(store: Store, ws: str) -> None:
    published = await publish(store, ws, [await webhook(store, ws)])
    [claimed] = await claim(store, T0, lease=30, worker="w1")
    assert await claim(store, T0 + 29, worker="w2") == []
    [again] = await claim(store, T0 + 31, worker="w2")
    assert again.delivery.id == claimed.delivery.id == published.deliveries[0].id
    assert await claim(store, T0 + 32, worker="w3") == []


async def test_claim_skips_excluded_webhooks(store: Store, ws: str) -> None:
    busy, free = await webhook(store, ws, "busy"), await webhook(store, ws, "free")
    await publish(store, ws, [busy, free, busy, free])
    claimed = await claim(store, T0, exclude=[busy.id])
    assert [c.webhook.id for c in claimed] == [free.id, free.id]
    assert [c.webhook.id for c in await claim(store, T0)] == [busy.id, busy.id]


async def test_claim_leases_at_most_each_webhooks_room(store: Store, ws: str) -> None:
    hot, cold, new = [await webhook(store, ws, n) for n in ("hot", "cold", "new")]
    published = [await publish(store, ws, [hot, cold, new], at=T0 + i) for i in range(5)]
    claimed = await claim(store, T0 + 10, rooms={hot.id: 3, cold.id: 0}, default_room=2)
    by_hook: dict[str, list[str]] = {}
    for c in claimed:
        by_hook.setdefault(c.webhook.id, []).append(c.delivery.id)
    oldest = [[p.deliveries[k].id for p in published] for k in range(3)]
    assert by_hook == {hot.id: oldest[0][:3], new.id: oldest[2][:2]}  # each webhook's oldest
    # What was over a webhook's room was not leased: the next claim takes it.
    again = await claim(store, T0 + 10, limit=100)
    assert sorted(ids([c.delivery for c in again])) == sorted(
        oldest[0][3:] + oldest[1] + oldest[2][2:]
    )


async def test_claim_ranks_rooms_within_the_oldest_limit(store: Store, ws: str) -> None:
    a, b = await webhook(store, ws, "a"), await webhook(store, ws, "b")
    first = [await publish(store, ws, [a], at=T0 + i) for i in range(4)]
    later = await publish(store, ws, [b], at=T0 + 5)
    # The 4 oldest are all a's: room 2 leases two of them, and b (not among them) waits.
    claimed = await claim(store, T0 + 10, limit=4, default_room=2)
    assert ids([c.delivery for c in claimed]) == [p.deliveries[0].id for p in first[:2]]
    rest = await claim(store, T0 + 10, limit=10)
    assert later.deliveries[0].id in ids([c.delivery for c in rest])


async def test_fifo_webhook_yields_only_its_oldest_pending_delivery(store: Store, ws: str) -> None:
    fifo, plain = await webhook(store, ws, "fifo", ordering="fifo"), await webhook(store, ws, "p")
    first, second, third = [
        (await publish(store, ws, [fifo, plain], at=T0 + i)).deliveries for i in range(3)
    ]
    claimed = await claim(store, T0 + 5)
    assert sorted(ids([c.delivery for c in claimed])) == sorted(
        [first[0].id, first[1].id, second[1].id, third[1].id]
    )
    assert await claim(store, T0 + 5) == []
    head = next(c for c in claimed if c.delivery.id == first[0].id)
    await store.queue.record([outcome(head, SUCCEEDED, at=T0 + 6)], T0 + 6)
    [nxt] = await claim(store, T0 + 7)
    assert nxt.delivery.id == second[0].id
    await store.queue.record([outcome(nxt, PENDING, at=T0 + 8, retry_at=T0 + 100)], T0 + 8)
    assert await claim(store, T0 + 50) == []  # the head waits for its retry; the rest wait too
    later = await claim(store, T0 + 100)
    assert [c.delivery.id for c in later if c.webhook.id == fifo.id] == [second[0].id]


async def test_claim_leaves_deliveries_of_disabled_webhooks_queued(store: Store, ws: str) -> None:
    paused, live = await webhook(store, ws, "paused"), await webhook(store, ws, "live")
    published = await publish(store, ws, [paused, live])
    await store.config.set_webhook_enabled(paused.id, False, "paused by a user", T0)
    assert [c.webhook.id for c in await claim(store, T0)] == [live.id]
    assert (
        await store.history.get_delivery(ws, published.deliveries[0].id) == published.deliveries[0]
    )
    await store.config.set_webhook_enabled(paused.id, True, None, T0 + 1)
    assert [c.webhook.id for c in await claim(store, T0 + 1)] == [paused.id]


async def test_record_stores_attempts_and_ends_leases(store: Store, ws: str) -> None:
    ok, flaky, gone = [await webhook(store, ws, n) for n in ("ok", "flaky", "gone")]
    await publish(store, ws, [ok, flaky, gone])
    by_hook = {c.webhook.id: c for c in await claim(store, T0, lease=60)}
    gone_410 = "endpoint answered 410 Gone"
    outcomes = [
        outcome(by_hook[ok.id], SUCCEEDED, at=T0 + 1),
        outcome(by_hook[flaky.id], PENDING, at=T0 + 1, retry_at=T0 + 30, http_status=None,
                error="timed out"),
        outcome(by_hook[gone.id], FAILED, at=T0 + 1, http_status=410, disable=gone_410),
    ]  # fmt: skip
    await store.queue.record(outcomes, T0 + 2)
    for o in outcomes:
        attempt, claimed = o.attempt, by_hook[o.attempt.webhook_id]
        assert await store.history.list_attempts(ws, attempt.delivery_id) == [attempt]
        assert await store.history.get_delivery(ws, attempt.delivery_id) == replace(
            claimed.delivery,
            status=o.status,
            attempts=1,
            next_attempt_at=o.next_attempt_at,
            last_status=attempt.response_status,
            last_error=attempt.error_message,
            updated_at=T0 + 2,
        )
    assert await claim(store, T0 + 29) == []
    [retried] = await claim(store, T0 + 30)  # before the first lease would have run out
    assert retried.delivery.id == by_hook[flaky.id].delivery.id
    disabled = await store.config.get_webhook(ws, gone.id)
    assert disabled is not None and not disabled.config.enabled
    assert disabled.disabled_reason == gone_410
    assert await routed(store, ws) == (4, [ok, flaky, disabled])
    await store.queue.record([], T0 + 3)


async def test_a_late_record_from_an_expired_lease_does_not_undo_a_result(
    store: Store, ws: str
) -> None:
    published = await publish(store, ws, [await webhook(store, ws)])
    [slow] = await claim(store, T0, lease=30, worker="slow")
    [fast] = await claim(store, T0 + 31, worker="fast")
    await store.queue.record([outcome(fast, SUCCEEDED, at=T0 + 32)], T0 + 32)
    await store.queue.record([outcome(slow, PENDING, at=T0 + 33, retry_at=T0 + 40)], T0 + 33)
    found = await store.history.get_delivery(ws, published.deliveries[0].id)
    assert found is not None and found.status is SUCCEEDED
    assert len(await store.history.list_attempts(ws, found.id)) == 2  # both attempts happened
    assert await claim(store, T0 + 40) == []


async def test_one_batch_with_two_results_for_a_delivery_applies_both_in_order(
    store: Store, ws: str
) -> None:
    # PostgreSQL writes a batch as set-based statements, which would apply only one of two
    # results for one delivery: both must count, in the batch's order.
    hook = await webhook(store, ws)
    published = await publish(store, ws, [hook, hook])
    [slow, other] = await claim(store, T0, lease=30, worker="slow")
    [fast, _] = await claim(store, T0 + 31, worker="fast")  # both leases ran out
    assert fast.delivery.id == slow.delivery.id
    batch = [
        outcome(slow, PENDING, at=T0 + 32, retry_at=T0 + 40),
        outcome(other, PENDING, at=T0 + 32, retry_at=T0 + 50, http_status=500),
        outcome(fast, SUCCEEDED, at=T0 + 33),
    ]
    await store.queue.record(batch, T0 + 33)
    found = await store.history.get_delivery(ws, published.deliveries[0].id)
    assert found is not None and (found.status, found.attempts) == (SUCCEEDED, 2)
    assert len(await store.history.list_attempts(ws, found.id)) == 2
    retried = await store.history.get_delivery(ws, other.delivery.id)
    assert retried is not None
    assert (retried.status, retried.attempts, retried.next_attempt_at) == (PENDING, 1, T0 + 50)
    assert await claim(store, T0 + 40) == []


async def test_release_gives_a_delivery_back_unattempted(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    await publish(store, ws, [hook, hook])
    held, done = await claim(store, T0)
    await store.queue.record([outcome(done, SUCCEEDED, at=T0)], T0)
    await store.queue.release([held.delivery.id, done.delivery.id], not_before=T0 + 10)
    await store.queue.release([], not_before=T0)
    assert await claim(store, T0 + 9) == []
    [again] = await claim(store, T0 + 10)
    assert again.delivery == replace(held.delivery, next_attempt_at=T0 + 10)
    finished = await store.history.get_delivery(ws, done.delivery.id)
    assert finished is not None and finished.status is SUCCEEDED


async def test_retry_delivery_starts_a_fresh_round(store: Store, ws: str) -> None:
    published = await publish(store, ws, [await webhook(store, ws)])
    delivery = published.deliveries[0]
    [c] = await claim(store, T0)
    await store.queue.record([outcome(c, PENDING, at=T0, retry_at=T0 + 1)], T0)
    [c] = await claim(store, T0 + 1)
    await store.queue.record([outcome(c, FAILED, at=T0 + 1, http_status=500)], T0 + 1)
    assert await store.history.retry_delivery("ws_other", delivery.id, T0 + 10) is False
    assert await store.history.retry_delivery(ws, "dlv_missing", T0 + 10) is False
    assert await store.history.retry_delivery(ws, delivery.id, T0 + 10) is True
    found = await store.history.get_delivery(ws, delivery.id)
    assert found is not None
    assert (found.status, found.attempts, found.retry_base) == (PENDING, 2, 2)
    assert (found.next_attempt_at, found.updated_at) == (T0 + 10, T0 + 10)
    [c] = await claim(store, T0 + 10, lease=60)
    assert (c.delivery.attempts, c.delivery.retry_base) == (2, 2)
    assert (
        await store.history.retry_delivery(ws, delivery.id, T0 + 20) is False
    )  # leased: in flight


async def test_replay_webhook_requeues_a_time_range_by_status(store: Store, ws: str) -> None:
    hook, other = await webhook(store, ws, "hook"), await webhook(store, ws, "other")
    runs = [await publish(store, ws, [hook, other], at=T0 + 10 * i) for i in range(4)]
    ours = [r.deliveries[0] for r in runs]
    plan = {d.id: FAILED for r in runs for d in r.deliveries} | {ours[1].id: SUCCEEDED}
    await finish(store, T0 + 100, plan)

    async def replay(since: float, until: float, *statuses: DeliveryStatus, of: str = ws) -> int:
        return await store.history.replay_webhook(
            of, hook.id, since=since, until=until, statuses=statuses, now=T0 + 200
        )

    assert await replay(T0 + 5, T0 + 30, FAILED, SUCCEEDED) == 2  # the middle two
    assert await replay(T0, T0 + 100, FAILED) == 2  # the first and the last
    assert await replay(T0, T0 + 100, FAILED, PENDING, of="ws_other") == 0
    for d in ours:
        found = await store.history.get_delivery(ws, d.id)
        assert found is not None
        assert (found.status, found.retry_base, found.next_attempt_at) == (PENDING, 1, T0 + 200)
    for r in runs:
        untouched = await store.history.get_delivery(ws, r.deliveries[1].id)
        assert untouched is not None and untouched.status is FAILED
    assert sorted(ids([c.delivery for c in await claim(store, T0 + 200)])) == sorted(ids(ours))


async def test_next_due_at_and_queue_stats(store: Store, ws: str) -> None:
    assert await store.queue.next_due_at() is None
    assert await store.queue.queue_stats(T0) == QueueStats(0, None)
    hook = await webhook(store, ws)
    await publish(store, ws, [hook], due=T0 + 50)
    soon = await publish(store, ws, [hook], due=T0 + 20)
    assert await store.queue.next_due_at() == T0 + 20
    assert await store.queue.queue_stats(T0) == QueueStats(2, T0 + 20)
    await finish(store, T0 + 20, {soon.deliveries[0].id: SUCCEEDED})
    assert await store.queue.next_due_at() == T0 + 50
    assert await store.queue.queue_stats(T0 + 20) == QueueStats(1, T0 + 50)


# -- concurrency ------------------------------------------------------------------------------
async def test_two_stores_never_claim_the_same_delivery(db_url: str) -> None:
    """Two pools on PostgreSQL; on SQLite two stores, each with its own connections to the file."""
    async with opened(db_url) as one, opened(db_url) as two:
        ws = await workspace(one)
        hooks = [await webhook(one, ws, f"hook-{i}") for i in range(10)]
        for i in range(50):
            await publish(one, ws, hooks, at=T0 + i / 100)

        async def drain(store: Store, worker: str) -> list[str]:
            got: list[str] = []
            while batch := await claim(store, T0 + 1, limit=7, worker=worker):
                got += [c.delivery.id for c in batch]
                await asyncio.sleep(0.002)  # a worker's pause between claims lets the other in
            return got

        first, second = await asyncio.gather(drain(one, "one"), drain(two, "two"))
    assert len(first) + len(second) == 500
    assert len(set(first) | set(second)) == 500
    assert first and second
