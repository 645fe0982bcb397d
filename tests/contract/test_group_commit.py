"""Group commit of publishes (``hookline.store.group_commit``) on SQLite and on PostgreSQL.

To hold a transaction in flight the tests lock the database from outside, as another process
would: SQLite's write lock (``BEGIN IMMEDIATE`` on a connection of their own), PostgreSQL's lock
on the events table. Failures are real ones too: SQLite refusing to grow the file
(``max_page_count``, the path of a full disk) and PostgreSQL terminating the backend.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, closing
from dataclasses import replace
from typing import Any

import asyncpg
import pytest

from hookline.domain.models import Webhook
from hookline.domain.publication import new_delivery, new_event
from hookline.errors import Conflict, StoreUnavailable
from hookline.store import PublishResult, Store
from hookline.store.base import PublishItem
from hookline.store.group_commit import GroupCommit
from hookline.store.sqlite import SqliteStore
from tests.contract.test_store import T0, execute_raw, ids, opened, webhook
from tests.polling import until

_UNLIMITED = 1_073_741_823  # SQLite's default max_page_count


def item(ws: str, hook: Webhook | None = None, *, key: str | None = None) -> PublishItem:
    event = new_event(ws, "order.created", {"key": key}, key, T0)
    return PublishItem(event, [] if hook is None else [new_delivery(event, hook.id, T0)])


@asynccontextmanager
async def locked(db_url: str) -> AsyncIterator[None]:
    """Another connection holds what a publish needs until the block ends."""
    if db_url.startswith("sqlite"):
        with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)) as c:
            c.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                c.execute("ROLLBACK")
        return
    conn = await asyncpg.connect(db_url)
    try:
        async with conn.transaction():
            await conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")
            yield
    finally:
        await conn.close()


def committing(group: GroupCommit) -> bool:
    """A group has been taken from the queue and its transaction is under way."""
    return group._leader is not None and not group._queue


async def committed(group: GroupCommit, item: PublishItem) -> PublishResult:
    """``group.publish`` of an item routed without a version to check: never left out."""
    result = await group.publish(item)
    assert result is not None
    return result


def start(group: GroupCommit, *items: PublishItem) -> list[asyncio.Task[PublishResult]]:
    return [asyncio.create_task(committed(group, i)) for i in items]


async def stored(store: Store, ws: str) -> list[str]:
    return sorted(ids((await store.history.list_events(ws, limit=500)).items))


async def test_concurrent_publishes_share_transactions(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    group = GroupCommit(store)
    items = [item(ws, hook) for _ in range(50)]
    results = await asyncio.gather(*(committed(group, i) for i in items))
    assert results == [PublishResult(i.event, list(i.deliveries), True) for i in items]
    assert group.events == 50 and group.groups < 50
    assert await stored(store, ws) == sorted(i.event.id for i in items)


async def test_publishes_arriving_during_a_commit_go_in_the_next_one(
    store: Store, ws: str, db_url: str
) -> None:
    hook = await webhook(store, ws)
    group = GroupCommit(store)
    async with locked(db_url):
        [first] = start(group, item(ws, hook))
        await until(lambda: committing(group))
        followers = start(group, *(item(ws, hook) for _ in range(3)))
        await asyncio.sleep(0.2)
        assert not any(t.done() for t in [first, *followers])  # nothing answers before commit
        assert await stored(store, ws) == []
    done = await asyncio.gather(first, *followers)
    assert all(r.created for r in done)
    assert (group.groups, group.events) == (2, 4)  # the one in flight, then the three together
    assert await stored(store, ws) == sorted(r.event.id for r in done)


async def test_a_group_holds_at_most_max_events(store: Store, ws: str, db_url: str) -> None:
    group = GroupCommit(store, max_events=2)
    async with locked(db_url):
        first = start(group, item(ws))
        await until(lambda: committing(group))
        rest = start(group, *(item(ws) for _ in range(5)))
    await asyncio.gather(*first, *rest)
    assert (group.groups, group.events) == (4, 6)  # 1, then 2 + 2 + 1


async def test_an_id_conflict_fails_only_its_own_publish(
    store: Store, ws: str, db_url: str
) -> None:
    hook = await webhook(store, ws)
    taken = item(ws, hook)
    await store.publishing.publish_many([taken])
    group = GroupCommit(store)
    clash = item(ws, hook)
    clash = replace(clash, event=replace(clash.event, id=taken.event.id, body='{"other": 1}'))
    async with locked(db_url):
        first = start(group, item(ws, hook))
        await until(lambda: committing(group))
        before, bad, after = start(group, item(ws, hook), clash, item(ws, hook))
    results = await asyncio.gather(*first, before, bad, after, return_exceptions=True)
    assert isinstance(results[2], Conflict)
    good = [r for r in results if isinstance(r, PublishResult)]
    assert len(good) == 3 and all(r.created for r in good)
    assert await stored(store, ws) == sorted([taken.event.id, *(r.event.id for r in good)])
    assert await store.history.get_event(ws, taken.event.id) == taken.event


async def test_a_key_repeated_in_a_group_is_a_repeat_of_the_first(
    store: Store, ws: str, db_url: str
) -> None:
    hook = await webhook(store, ws)
    group = GroupCommit(store)
    async with locked(db_url):
        first = start(group, item(ws, hook))
        await until(lambda: committing(group))
        one, two = start(group, item(ws, hook, key="k"), item(ws, hook, key="k"))
    await asyncio.gather(*first)
    created, repeat = await one, await two
    assert created.created and not repeat.created
    assert repeat == PublishResult(created.event, created.deliveries, False)


async def test_a_publish_cancelled_before_its_commit_is_not_stored(
    store: Store, ws: str, db_url: str
) -> None:
    group = GroupCommit(store)
    async with locked(db_url):
        first = start(group, item(ws))
        await until(lambda: committing(group))
        kept, dropped = start(group, item(ws), item(ws))
        await asyncio.sleep(0)
        dropped.cancel()
    await asyncio.gather(*first, kept)
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert await stored(store, ws) == sorted([first[0].result().event.id, kept.result().event.id])


@pytest.fixture
async def failing(db_url: str, store: Store) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Makes the next publish transaction fail for a reason of the database's, not the data's.

    SQLite: the file may not grow (SQLITE_FULL). PostgreSQL: the backend waiting on the lock
    ``locked`` holds is terminated (the connection is lost).
    """
    if isinstance(store, SqliteStore):
        writer = store.dialect._writer
        assert writer is not None

        async def full() -> None:
            async with store.dialect._lock:
                (row,) = await writer.execute_fetchall("PRAGMA page_count")
                await writer.execute_fetchall(f"PRAGMA max_page_count = {int(row[0])}")

        yield full
        async with store.dialect._lock:
            await writer.execute_fetchall(f"PRAGMA max_page_count = {_UNLIMITED}")
        return
    admin = await asyncpg.connect(db_url)

    async def terminate() -> None:
        waiting = "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        waiting += " AND datname = current_database()"
        await until(lambda: _any(admin, waiting))
        await admin.execute(f"SELECT pg_terminate_backend(pid) FROM ({waiting}) w")

    try:
        yield terminate
    finally:
        await admin.close()


async def _any(conn: asyncpg.Connection, sql: str) -> bool:
    return bool(await conn.fetch(sql))


def big(ws: str) -> PublishItem:
    """An event that needs new pages of the file."""
    event = new_event(ws, "order.created", {"blob": "x" * 200_000}, None, T0)
    return PublishItem(event)


async def test_a_database_failure_fails_every_publish_of_the_group(
    store: Store, ws: str, db_url: str, failing: Callable[[], Awaitable[None]]
) -> None:
    group = GroupCommit(store)
    sqlite = isinstance(store, SqliteStore)
    if sqlite:
        await failing()
    async with locked(db_url):
        first = start(group, big(ws))
        await until(lambda: committing(group))
        rest = start(group, *(big(ws) for _ in range(3)))
        if not sqlite:
            await failing()  # the first group's transaction
            await until(lambda: committing(group) and first[0].done())
            await failing()  # the second's
    results = await asyncio.gather(*first, *rest, return_exceptions=True)
    assert all(isinstance(r, StoreUnavailable) for r in results), results
    assert group.groups == 0
    assert await stored(store, ws) == []
    if isinstance(store, SqliteStore):  # lift the cap that made its file full
        async with store.dialect._lock:
            assert store.dialect._writer is not None
            await store.dialect._writer.execute_fetchall(f"PRAGMA max_page_count = {_UNLIMITED}")
    again = await committed(group, big(ws))  # the next group gets through
    assert await stored(store, ws) == [again.event.id]


async def test_a_publish_alone_fails_as_it_would_without_grouping(store: Store, ws: str) -> None:
    taken = item(ws)
    await store.publishing.publish_many([taken])
    group = GroupCommit(store)
    with pytest.raises(Conflict):
        await group.publish(taken)
    assert (await committed(group, item(ws))).created


def test_max_events_must_be_positive(store: Any) -> None:
    with pytest.raises(ValueError, match="positive"):
        GroupCommit(store, max_events=0)


async def test_groups_of_one_process_share_a_store_with_another(
    store: Store, ws: str, db_url: str
) -> None:
    """Two processes' group commits on one database: every event once, no deadlock."""
    hook = await webhook(store, ws)
    async with opened(db_url) as other:
        mine, theirs = GroupCommit(store), GroupCommit(other)
        calls = [
            committed(mine if n % 2 else theirs, item(ws, hook, key=f"k{n % 30}"))
            for n in range(60)
        ]
        results = await asyncio.gather(*calls)
    assert sum(r.created for r in results) == 30
    assert len(await stored(store, ws)) == 30


@pytest.mark.parametrize("plain", [False, True], ids=["in a transaction", "plain"])
async def test_a_publish_routed_at_a_version_that_moved_is_left_out_and_the_rest_committed(
    store: Store, ws: str, db_url: str, plain: bool
) -> None:
    """Items in the store's transaction, and plain ones (no key, window or disabled webhook:
    one statement where the database can, which compares the versions itself)."""
    hook = await webhook(store, ws)
    version = await store.config.config_version(ws)
    assert version is not None

    def shaped(i: PublishItem, config_version: int | None = None) -> PublishItem:
        none: frozenset[str] = frozenset()
        i = replace(i, config_version=config_version)
        return replace(i, fifo=none, held=none) if plain else i

    current = shaped(item(ws, hook), version)
    moved = shaped(item(ws, hook), version + 1)
    gone = shaped(item("ws_gone", hook), version)
    unchecked = shaped(item(ws, hook))
    results = await store.publishing.publish_current([current, moved, gone, unchecked])
    assert results == [
        PublishResult(current.event, list(current.deliveries), True),
        None,
        None,
        PublishResult(unchecked.event, list(unchecked.deliveries), True),
    ]
    assert await stored(store, ws) == sorted([current.event.id, unchecked.event.id])
    # What was left out queued nothing either.
    queued = await execute_raw(db_url, "SELECT COUNT(*) FROM deliveries")
    assert queued == [2]
    with pytest.raises(Conflict, match="configuration changed"):
        await store.publishing.publish_many([replace(item(ws, hook), config_version=version + 1)])
    group = GroupCommit(store)
    assert await group.publish(replace(item(ws, hook), config_version=version + 1)) is None


async def test_a_repeat_of_a_key_whose_first_publish_was_left_out_is_left_out_too(
    store: Store, ws: str
) -> None:
    version = await store.config.config_version(ws)
    assert version is not None
    first = replace(item(ws, key="k"), config_version=version + 1)
    later = replace(item(ws, key="k"), config_version=version)
    assert await store.publishing.publish_current([first, later]) == [None, None]
    assert await stored(store, ws) == []
