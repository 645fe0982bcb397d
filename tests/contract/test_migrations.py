"""The migrations build exactly the schema of ``hookline.store.tables``, and take it down again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

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


def differences(conn: Connection) -> list[Any]:
    """What autogenerate would write to turn the database into ``metadata``: nothing, we hope."""
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def tables(conn: Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names())


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


def deliveries_options(conn: Connection) -> list[str] | None:
    found = conn.execute(sa.text("SELECT reloptions FROM pg_class WHERE relname = 'deliveries'"))
    options: list[str] | None = found.scalar_one()
    return options


@pytest.mark.postgres
async def test_deliveries_pages_keep_room_for_claims_on_postgresql(pg_url: str) -> None:
    # A claim's lease update stays on its page (no index entries) only where the page has room.
    assert await inspect_db(pg_url, deliveries_options) == ["fillfactor=50"]
    await asyncio.to_thread(downgrade, pg_url, "0005")
    assert await inspect_db(pg_url, deliveries_options) is None
    await asyncio.to_thread(upgrade, pg_url)
    assert await inspect_db(pg_url, deliveries_options) == ["fillfactor=50"]
