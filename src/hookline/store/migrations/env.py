"""Alembic environment: runs the migrations on the database Hookline is configured for."""

from __future__ import annotations

import asyncio
import uuid

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from hookline.store.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several processes may start at once; one migrates, the others wait and find it done.
            connection.execute(text("SELECT pg_advisory_xact_lock(727274)"))
        context.run_migrations()


def _statement_name() -> str:
    return f"__hookline_migrate_{uuid.uuid4().hex}__"


async def _run_async(url: str) -> None:
    # Safe behind PgBouncer in transaction mode as well as directly: the whole upgrade, with
    # its advisory lock, is one transaction (so one server connection); no statement is cached
    # for a later transaction; and the statements SQLAlchemy prepares have names no other
    # client reuses on a server connection they may be left on.
    if not url.startswith("postgresql"):
        engine = create_async_engine(url)
    else:
        engine = create_async_engine(
            url,
            poolclass=NullPool,
            connect_args={
                "statement_cache_size": 0,
                "prepared_statement_cache_size": 0,
                "prepared_statement_name_func": _statement_name,
            },
        )
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_async(config.get_main_option("sqlalchemy.url") or ""))
