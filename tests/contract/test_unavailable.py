"""A database that is unavailable or busy is the same ``StoreUnavailable`` on SQLite and
PostgreSQL (the API's 503 with ``Retry-After``), and the store works again once it is back."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest

from hookline.domain.models import Workspace
from hookline.errors import StoreUnavailable
from hookline.store import Store, sqlite_writer
from tests.contract.test_store import T0, execute_raw

_END_OTHER_CONNECTIONS = (
    "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def busy_errors(store: Store) -> list[Exception]:
    """Native errors of the store's driver that mean "unavailable or busy"."""
    if store.dialect.LOCK:  # PostgreSQL
        return [
            asyncpg.TooManyConnectionsError("sorry, too many clients already"),
            asyncpg.LockNotAvailableError("canceling statement due to lock timeout"),
            asyncpg.ConnectionDoesNotExistError("connection was closed"),
            ConnectionRefusedError(111, "Connection refused"),
        ]
    errors: list[Exception] = []
    for code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL):
        error = sqlite3.OperationalError("database is locked")
        error.sqlite_errorcode = code
        errors.append(error)
    return errors


def other_errors(store: Store) -> list[Exception]:
    if store.dialect.LOCK:
        return [asyncpg.UniqueViolationError("duplicate key"), ValueError("a bug")]
    syntax = sqlite3.OperationalError('near "SELEC": syntax error')
    syntax.sqlite_errorcode = sqlite3.SQLITE_ERROR
    return [sqlite3.IntegrityError("UNIQUE constraint failed: meta.key"), syntax]


def test_busy_and_unavailable_errors_translate_alike(store: Store) -> None:
    for error in busy_errors(store):
        assert isinstance(store.dialect.translate(error), StoreUnavailable), error
    for error in other_errors(store):
        assert store.dialect.translate(error) is None, error


async def test_a_database_out_of_reach_is_unavailable_until_it_is_back(
    store: Store, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: another process holds the write lock past the busy timeout. PostgreSQL: every
    connection of the store is ended by the server (as in a restart), one of them in use."""
    monkeypatch.setattr(sqlite_writer, "BUSY_TIMEOUT_MS", 100)  # not the 30 s of production
    await store.config.create_workspace(Workspace("ws_1", "one", T0))
    if db_url.startswith("sqlite"):
        other = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(StoreUnavailable):
                await store.config.create_workspace(Workspace("ws_2", "two", T0))
            other.execute("COMMIT")
        finally:
            other.close()
    else:
        with pytest.raises(StoreUnavailable):
            async with store.dialect.read() as conn:
                await execute_raw(db_url, _END_OTHER_CONNECTIONS)
                await conn.fetch("SELECT 1 AS one")
    await store.config.create_workspace(Workspace("ws_2", "two", T0))
    assert [w.id for w in await store.config.list_workspaces()] == ["ws_1", "ws_2"]
    await store.ping()
