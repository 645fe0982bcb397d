"""Wake-ups across processes on PostgreSQL: NOTIFY after commit, coalesced; pool without reset.

"Another process" is another store instance with its own pool and connections: PostgreSQL cannot
tell them apart from two machines.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from hookline.domain.publication import new_delivery, new_event
from hookline.domain.secretbox import SecretBox
from hookline.errors import StoreUnavailable
from hookline.runtime.process import Roles, run
from hookline.settings import Settings
from hookline.store.postgres import CHANNEL, NOTIFY_INTERVAL, PostgresStore
from hookline.store.tx import Tx
from tests.conftest import Receiver, start_service
from tests.contract.test_store import T0, webhook, workspace
from tests.integration.engine_helpers import workspace as api_workspace
from tests.integration.test_outage import Cluster, cluster, fresh_db  # noqa: F401 - fixtures
from tests.polling import until

pytestmark = pytest.mark.postgres

POLL = 30.0  # workers' poll interval in these tests: any wake-up sooner is a NOTIFY


class Listener:
    """A LISTEN connection of the test's own, counting notifications."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.count = 0
        self.arrived = asyncio.Event()

    def __call__(self, *_: Any) -> None:
        self.count += 1
        self.arrived.set()

    async def quiet(self, seconds: float = 0.2) -> int:
        """The count once no notification has arrived for ``seconds``."""
        while True:
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), seconds)
            except TimeoutError:
                return self.count


async def listening(dsn: str) -> Listener:
    conn = await asyncpg.connect(dsn)
    listener = Listener(conn)
    await conn.add_listener(CHANNEL, listener)
    return listener


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[PostgresStore]:
    opened = await PostgresStore(pg_url, SecretBox(None)).open()
    try:
        yield opened
    finally:
        await opened.close()


async def publish_one(store: PostgresStore, ws: str, hook_id: str, n: int = 0) -> None:
    event = new_event(ws, "order.created", {"n": n}, None, T0)
    await store.publishing.publish(event, [new_delivery(event, hook_id, T0)])


async def wait_listening(dsn: str, timeout: float = 10.0) -> None:
    """Until some session of that database has LISTENed (a worker has set up its wake-ups)."""
    conn = await asyncpg.connect(dsn)

    async def listening() -> bool:
        return bool(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()"
            )
        )

    try:
        await until(listening, timeout, what="a worker's LISTEN")
    finally:
        await conn.close()


async def test_a_worker_wakes_on_a_publish_made_by_another_process(
    pg_url: str, receiver: Receiver
) -> None:
    api, stop_api, api_task = await start_service(pg_url, worker=False)
    settings = Settings(database_url=pg_url, allowed_networks=("127.0.0.0/8",), poll_interval=POLL)
    stop_worker = asyncio.Event()
    worker = asyncio.create_task(
        run(settings, Roles(api=False, worker=True), stop=stop_worker, announce=lambda _: None)
    )
    try:
        workspace_api = await api_workspace(api)
        await workspace_api.hook(receiver.url, name="hook")
        await wait_listening(pg_url)
        await asyncio.sleep(0.2)  # its first claim (empty) is done: now it waits for POLL
        for n in range(1, 4):
            started = time.monotonic()
            await workspace_api.publish({"n": n})
            await receiver.wait_for(n, timeout=POLL / 3)
            assert time.monotonic() - started < 5, "woken by the poll, not by a NOTIFY"
    finally:
        stop_worker.set()
        stop_api.set()
        await asyncio.gather(worker, api_task)
        await api.http.close()


async def test_a_burst_of_publishes_sends_far_fewer_notifies(
    store: PostgresStore, pg_url: str
) -> None:
    ws = await workspace(store)
    hook = await webhook(store, ws)
    listener = await listening(pg_url)
    try:
        publishes, publishers = 400, 40
        queue = iter(range(publishes))

        async def publisher() -> None:
            for n in queue:
                await publish_one(store, ws, hook.id, n)

        started = time.monotonic()
        await asyncio.gather(*(publisher() for _ in range(publishers)))
        elapsed = time.monotonic() - started
        notified = await listener.quiet()
    finally:
        await listener.conn.close()
    assert notified >= 1, "no wake-up at all"
    # At most one per interval (plus the first, sent at once, and one after the burst) ...
    assert notified <= elapsed / NOTIFY_INTERVAL + 2, (notified, elapsed)
    # ... which is far fewer than one per publish.
    assert notified <= publishes / 4, (notified, publishes, elapsed)
    assert store.dialect.notifier.sent == notified


async def test_notify_goes_out_after_commit_and_never_for_a_rollback(
    store: PostgresStore, pg_url: str
) -> None:
    ws = await workspace(store)
    hook = await webhook(store, ws)
    listener = await listening(pg_url)
    try:
        with pytest.raises(RuntimeError):
            async with store.dialect.tx() as tx:
                await store.dialect.after_enqueue(tx)
                raise RuntimeError("rolled back")
        assert await listener.quiet() == 0
        assert not store.dialect._enqueued

        await publish_one(store, ws, hook.id)
        await asyncio.wait_for(listener.arrived.wait(), 5)
        assert await listener.quiet() == 1

        # A publish that queues nothing (no webhook subscribed) wakes nobody.
        event = new_event(ws, "order.created", {}, None, T0)
        await store.publishing.publish(event, [])
        assert await listener.quiet() == 1
    finally:
        await listener.conn.close()


async def test_a_notify_connection_ended_by_the_server_is_replaced(
    store: PostgresStore, pg_url: str
) -> None:
    ws = await workspace(store)
    hook = await webhook(store, ws)
    listener = await listening(pg_url)
    try:
        await publish_one(store, ws, hook.id)
        await asyncio.wait_for(listener.arrived.wait(), 5)
        assert store.dialect._notifying is not None
        pid = store.dialect._notifying.get_server_pid()
        assert await listener.conn.fetchval("SELECT pg_terminate_backend($1)", pid)
        await asyncio.sleep(0.2)
        await listener.quiet()
        listener.arrived.clear()
        await publish_one(store, ws, hook.id, 1)
        await asyncio.wait_for(listener.arrived.wait(), 5)
        assert store.dialect._notifying.get_server_pid() != pid
    finally:
        await listener.conn.close()


class DeadConnection:
    """A connection whose socket died unnoticed: it looks open until it is used."""

    terminated = False

    def is_closed(self) -> bool:
        return self.terminated

    async def execute(self, sql: str, timeout: float | None = None) -> str:
        raise ConnectionResetError("connection reset by peer")

    def terminate(self) -> None:
        self.terminated = True


async def test_a_notify_on_a_dead_connection_is_sent_again_on_a_new_one(
    store: PostgresStore, pg_url: str
) -> None:
    dead = DeadConnection()
    store.dialect._notifying = dead
    listener = await listening(pg_url)
    try:
        store.dialect.notifier.mark()
        await asyncio.wait_for(listener.arrived.wait(), 5)
    finally:
        await listener.conn.close()
    assert dead.terminated
    assert store.dialect._notifying is not dead


async def test_a_publish_never_waits_for_its_notify(store: PostgresStore) -> None:
    ws = await workspace(store)
    hook = await webhook(store, ws)
    hung = asyncio.Event()

    async def never_answers() -> None:
        await hung.wait()  # as a NOTIFY to a server that stopped answering

    store.dialect.notifier._send = never_answers
    started = time.monotonic()
    for n in range(5):
        await publish_one(store, ws, hook.id, n)
    assert time.monotonic() - started < 2
    started = time.monotonic()
    await store.dialect.notifier.close(timeout=0.2)  # and closing the store does not hang on it
    assert time.monotonic() - started < 1


async def _value(conn: Tx, sql: str) -> Any:
    """The first column of the one row ``sql`` returns."""
    row = await conn.fetchrow(sql)
    assert row is not None
    return next(iter(row.values()))


async def test_pooled_connections_are_not_reset(pg_url: str) -> None:
    """Session state would survive a release: nothing in Hookline may leave any."""
    store = await PostgresStore(pg_url, SecretBox(None), min_size=1, max_size=1).open()
    try:
        async with store.dialect.read() as conn:
            pid = await _value(conn, "SELECT pg_backend_pid()")
            await conn.execute("SET application_name = 'hookline-reset-probe'")
        async with store.dialect.read() as conn:  # the same connection: the pool holds one
            assert await _value(conn, "SELECT pg_backend_pid()") == pid
            assert await _value(conn, "SHOW application_name") == "hookline-reset-probe"
        # An unfinished transaction is still rolled back on release (asyncpg does that itself).
        async with store.dialect.read() as conn:
            await conn.execute("BEGIN")
            await conn.execute("CREATE TEMP TABLE gone (x int)")
        async with store.dialect.read() as conn:
            assert await _value(conn, "SELECT to_regclass('pg_temp.gone')") is None
    finally:
        await store.close()


async def test_notifies_survive_a_database_outage(
    cluster: Cluster,  # noqa: F811 - the fixture imported above
    fresh_db: str,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = await PostgresStore(fresh_db, SecretBox(None)).open()
    try:
        ws = await workspace(store)
        hook = await webhook(store, ws)
        await publish_one(store, ws, hook.id)
        await cluster.stop()
        with caplog.at_level(logging.WARNING, logger="hookline.store.postgres"):
            for _ in range(20):  # as if commits had just succeeded when the server went away
                store.dialect.notifier.mark()
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.3)
            with pytest.raises(StoreUnavailable):
                await publish_one(store, ws, hook.id)
        failures = [r for r in caplog.records if "cannot NOTIFY" in r.getMessage()]
        assert len(failures) == 1, [r.getMessage() for r in failures]  # rate-limited

        await cluster.start()
        listener = await listening(fresh_db)
        try:
            await publish_one(store, ws, hook.id, 1)
            await asyncio.wait_for(listener.arrived.wait(), 5)
        finally:
            await listener.conn.close()
    finally:
        await asyncio.wait_for(store.close(), 15)


async def test_the_store_closes_cleanly_while_the_database_is_down(
    cluster: Cluster,  # noqa: F811
    fresh_db: str,  # noqa: F811
) -> None:
    store = await PostgresStore(fresh_db, SecretBox(None)).open()
    ws = await workspace(store)
    hook = await webhook(store, ws)
    await publish_one(store, ws, hook.id)  # the NOTIFY connection is open
    await store.wait_for_work(0.01)  # and the LISTEN one
    await cluster.stop()
    store.dialect.notifier.mark()  # a wake-up pending at close: tried, fails, is dropped
    await asyncio.wait_for(store.close(), 15)
