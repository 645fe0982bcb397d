"""The migrations build exactly the schema of ``hookline.store.tables``, and take it down again."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from hookline.domain.ids import new_id
from hookline.store.migrate import downgrade, is_current, sqlalchemy_url, upgrade
from hookline.store.tables import metadata

T = TypeVar("T")


async def inspect_db(database_url: str, look: Callable[[Connection], T]) -> T:
    engine = create_async_engine(sqlalchemy_url(database_url))
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(look)
    finally:
        await engine.dispose()


#: A partition of PostgreSQL's time-partitioned history tables (``deliveries_p20261207``): made
#: and dropped as time passes, so not part of the schema ``metadata`` describes.
PARTITION = re.compile(r"^(events|deliveries|attempts|delivery_events)_p\d{8}$")


def not_a_partition(obj: Any, name: str | None, type_: str, reflected: bool, _: Any) -> bool:
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return not (table is not None and PARTITION.match(str(table.name)))


def differences(conn: Connection) -> list[Any]:
    """What autogenerate would write to turn the database into ``metadata``: nothing, we hope."""
    options = {"compare_type": True, "include_object": not_a_partition}
    context = MigrationContext.configure(conn, opts=options)
    return list(compare_metadata(context, metadata))


def tables(conn: Connection) -> set[str]:
    return {t for t in sa.inspect(conn).get_table_names() if not PARTITION.match(t)}


async def check_at_head(database_url: str) -> None:
    assert await asyncio.to_thread(is_current, database_url)
    assert await inspect_db(database_url, differences) == []
    assert await inspect_db(database_url, tables) == {*metadata.tables, "alembic_version"}


async def test_upgrade_builds_the_schema_and_downgrade_removes_it(database_url: str) -> None:
    # The PostgreSQL fixture database comes migrated and the SQLite one empty: start from base.
    await asyncio.to_thread(downgrade, database_url, "base")
    assert not await asyncio.to_thread(is_current, database_url)
    assert await inspect_db(database_url, tables) <= {"alembic_version"}
    await asyncio.to_thread(upgrade, database_url)
    await check_at_head(database_url)
    await asyncio.to_thread(upgrade, database_url)  # idempotent: every process runs it on start
    await check_at_head(database_url)

    await asyncio.to_thread(downgrade, database_url, "base")
    assert not await asyncio.to_thread(is_current, database_url)
    assert await inspect_db(database_url, tables) <= {"alembic_version"}
    await asyncio.to_thread(upgrade, database_url)
    await check_at_head(database_url)


def deliveries_options(conn: Connection) -> list[tuple[str, ...] | None]:
    """The storage options of ``deliveries``, or of each of its partitions once partitioned."""
    found = conn.execute(
        sa.text(
            "SELECT reloptions FROM pg_class WHERE relname ~ '^deliveries(_p[0-9]{8})?$'"
            " AND relkind = 'r' ORDER BY relname"
        )
    )
    return [None if row[0] is None else tuple(row[0]) for row in found]


@pytest.mark.postgres
async def test_deliveries_pages_keep_room_for_claims_on_postgresql(pg_url: str) -> None:
    # A claim's lease update stays on its page (no index entries) only where the page has room.
    assert set(await inspect_db(pg_url, deliveries_options)) == {("fillfactor=50",)}
    await asyncio.to_thread(downgrade, pg_url, "0005")
    assert await inspect_db(pg_url, deliveries_options) == [None]
    await asyncio.to_thread(upgrade, pg_url, "0012")
    assert await inspect_db(pg_url, deliveries_options) == [("fillfactor=50",)]
    await asyncio.to_thread(upgrade, pg_url)
    partitions = await inspect_db(pg_url, deliveries_options)
    assert len(partitions) >= 4  # today and the three days ahead
    assert set(partitions) == {("fillfactor=50",)}


async def fetch(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    def run(conn: Connection) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in conn.execute(sa.text(sql))]

    return await inspect_db(database_url, run)


async def write(database_url: str, *statements: str) -> None:
    engine = create_async_engine(sqlalchemy_url(database_url))
    try:
        async with engine.begin() as conn:
            for sql in statements:
                await conn.execute(sa.text(sql))
    finally:
        await engine.dispose()


HISTORY = ("events", "deliveries", "attempts", "delivery_events")


async def history(database_url: str, tables: tuple[str, ...]) -> dict[str, list[tuple[Any, ...]]]:
    order = {"delivery_events": "delivery_id, position", "event_keys": "event_id"}
    return {t: await fetch(database_url, f"SELECT * FROM {t} ORDER BY {order.get(t, 'id')}")
            for t in tables}  # fmt: skip


@pytest.mark.postgres
async def test_an_existing_database_is_partitioned_with_every_row_and_back_again(
    pg_url: str,
) -> None:
    await asyncio.to_thread(downgrade, pg_url, "0012")
    now = time.time()
    rows = []
    for days in (60, 3, 0):  # rows of three days, one of them long past
        at = now - days * 86400
        evt, dlv = new_id("evt", at=at, floor=True), new_id("dlv", at=at + 0.001, floor=True)
        key = "NULL" if days == 3 else f"'key-{days}'"
        rows += [
            "INSERT INTO events (id, workspace_id, type, body, idempotency_key, created_at)"
            f" VALUES ('{evt}', 'ws_1', 'order.paid', '{{}}', {key}, {at})",
            "INSERT INTO deliveries (id, workspace_id, event_id, webhook_id, status, ordered,"
            " attempts, retry_base, next_attempt_at, lease_until, created_at, updated_at)"
            f" VALUES ('{dlv}', 'ws_1', '{evt}', 'wh_1', 'succeeded', 0, 1, 0, {at}, 0,"
            f" {at}, {at})",
            "INSERT INTO attempts (id, workspace_id, delivery_id, webhook_id, number, started_at,"
            " duration_ms, request_method, request_url, request_headers, response_status,"
            " response_headers, response_body) VALUES"
            f" ('{new_id('att', at=at + 1, floor=True)}', 'ws_1', '{dlv}', 'wh_1', 1, {at}, 5,"
            " 'POST', 'https://example.com/', '{}', 200, '{}', 'ok')",
            f"INSERT INTO delivery_events VALUES ('{dlv}', 1, '{evt}')",
        ]
    await write(pg_url, *rows)
    before = await history(pg_url, HISTORY)

    await asyncio.to_thread(upgrade, pg_url)
    await check_at_head(pg_url)
    after = await history(pg_url, (*HISTORY, "event_keys"))
    assert {t: v for t, v in after.items() if t != "event_keys"} == before
    keys = [(ws, key) for ws, key, _ in after["event_keys"]]
    assert sorted(keys) == [("ws_1", "key-0"), ("ws_1", "key-60")]
    kinds = await fetch(
        pg_url,
        "SELECT relname, relkind::text FROM pg_class WHERE relname IN"
        " ('events', 'deliveries', 'attempts', 'delivery_events')",
    )
    assert {kind for _, kind in kinds} == {"p"}  # partitioned, all four
    spans = await fetch(
        pg_url,
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'deliveries'::regclass",
    )
    # Daily from 45 days back to three days ahead; the 60-day-old row's in one older span.
    assert 1 + 45 + 4 <= len(spans) <= 1 + 46 + 4

    await asyncio.to_thread(downgrade, pg_url, "0012")
    assert await history(pg_url, HISTORY) == before
