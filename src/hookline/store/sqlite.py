"""SQLite dialect: one write connection (serialised by a lock) and one read connection, in WAL.

Several processes may share the file: writes take the database lock with ``BEGIN IMMEDIATE``
and wait on it (busy timeout) instead of failing. Workers in this process wake on an in-process
signal; workers in other processes poll.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import aiosqlite
import orjson

from hookline.errors import StoreUnavailable
from hookline.secretbox import SecretBox
from hookline.store.rows import Row
from hookline.store.sql import SqlStore
from hookline.store.tx import Tx

_PLACEHOLDER = re.compile(r"\$(\d+)")
_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA busy_timeout = 30000",
    "PRAGMA foreign_keys = OFF",
)


@lru_cache(maxsize=512)
def _sqlite_sql(sql: str) -> str:
    return _PLACEHOLDER.sub(r"?\1", sql)


class _Conn:
    """Adapts an aiosqlite connection to the ``Tx`` protocol."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        found: Sequence[Row] = list(await self._conn.execute_fetchall(_sqlite_sql(sql), args))  # type: ignore[arg-type]
        return found

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        found = await self.fetch(sql, *args)
        return found[0] if found else None

    async def execute(self, sql: str, *args: Any) -> int:
        cursor = await self._conn.execute(_sqlite_sql(sql), args)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(_sqlite_sql(sql), list(args))


def _lower(value: object) -> str | None:
    return None if value is None else str(value).lower()


def sqlite_path(database_url: str) -> str:
    return database_url.removeprefix("sqlite:///") or ":memory:"


class SqliteStore(SqlStore):
    def __init__(self, path: str, box: SecretBox) -> None:
        super().__init__(box)
        self._path = path
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()

    async def open(self) -> SqliteStore:
        self._writer = await self._connect()
        self._reader = await self._connect()
        return self

    async def _connect(self) -> aiosqlite.Connection:
        try:
            conn = await aiosqlite.connect(self._path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite database {self._path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        # SQLite's own LOWER folds ASCII only; PostgreSQL's (webhook search) folds every letter.
        await conn.create_function("lower", 1, _lower, deterministic=True)
        for pragma in _PRAGMAS:
            await conn.execute(pragma)
        return conn

    async def close(self) -> None:
        for conn in (self._writer, self._reader):
            if conn is not None:
                await conn.close()
        self._writer = self._reader = None

    async def ping(self) -> None:
        try:
            await self._fetchrow("SELECT 1 AS one")
        except (sqlite3.Error, ValueError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[Tx]:
        assert self._writer is not None, "store is not open"
        async with self._lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
                try:
                    yield _Conn(self._writer)
                    await self._writer.execute("COMMIT")
                except BaseException:
                    await self._rollback()
                    raise
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_FULL:
                    raise StoreUnavailable(f"the SQLite database is full: {exc}") from exc
                raise

    async def _rollback(self) -> None:
        assert self._writer is not None, "store is not open"
        # SQLite may have rolled back already (it can on SQLITE_FULL); a COMMIT that failed
        # leaves the transaction open, and the next BEGIN would fail forever.
        if self._writer.in_transaction:
            await self._writer.execute("ROLLBACK")

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[Tx]:
        assert self._reader is not None, "store is not open"
        yield _Conn(self._reader)

    def _in(self, n: int) -> str:
        return f"IN (SELECT value FROM json_each(${n}))"

    def _not_in(self, n: int) -> str:
        return f"NOT IN (SELECT value FROM json_each(${n}))"

    def _list(self, values: Sequence[str]) -> Any:
        return orjson.dumps(list(values)).decode()

    def _is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)

    async def _after_enqueue(self, tx: Tx) -> None:
        return None

    def notify_local(self) -> None:
        self._wake.set()

    async def wait_for_work(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            pass
        self._wake.clear()
