"""SQLite dialect: one write connection (serialised by a lock) and one read connection, in WAL.

Several processes may share the file: writes take the database lock with ``BEGIN IMMEDIATE``
and wait on it (busy timeout) instead of failing. Workers in this process wake on an in-process
signal; workers in other processes poll.

Write transactions run their statements on the event loop's thread, between a ``BEGIN
IMMEDIATE`` and a ``COMMIT`` that run on the writer's own thread: those two are where SQLite
may wait (for another process's lock, for the fsync), and the statements between them only
touch pages already locked for us and take microseconds. A thread hop per statement, as
aiosqlite makes, cost a turn of a busy event loop each: a claim of seven statements took tens
of milliseconds under load and capped the worker's rate. Reads keep aiosqlite's thread.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import lru_cache, partial
from typing import Any, TypeVar

import aiosqlite
import orjson

from hookline.errors import StoreUnavailable
from hookline.secretbox import SecretBox
from hookline.store.checkpoints import Checkpointer
from hookline.store.rows import Row
from hookline.store.sql import SqlStore
from hookline.store.tx import Tx

_PLACEHOLDER = re.compile(r"\$(\d+)")
_BUSY_TIMEOUT_MS = 30_000
_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys = OFF",
)
_WATCH_INTERVAL = 0.01
# The write connection between transactions: a commit reaches the disk only if its transaction
# asks for it (``durable``: FULL for that one commit; it also covers every commit before it).
_RELAXED = "PRAGMA synchronous = NORMAL"


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


class _Inline:
    """The ``Tx`` protocol on the write connection, run synchronously: only ever used between
    ``BEGIN IMMEDIATE`` and ``COMMIT``, under the store's lock, where no statement waits."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        found: Sequence[Row] = self._conn.execute(_sqlite_sql(sql), args).fetchall()
        return found

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        found: Row | None = self._conn.execute(_sqlite_sql(sql), args).fetchone()
        return found

    async def execute(self, sql: str, *args: Any) -> int:
        return self._conn.execute(_sqlite_sql(sql), args).rowcount

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(_sqlite_sql(sql), args)


T = TypeVar("T")


class _Writer:
    """The write connection and the one thread that may wait on its behalf."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="hookline-sqlite-writer")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, partial(fn, *args))

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """One statement on the writer's thread (call it holding the store's lock)."""
        return await self.run(lambda: list(self.conn.execute(sql, params).fetchall()))

    async def close(self) -> None:
        await self.run(self.conn.close)
        self._thread.shutdown(wait=False)


def _rollback_if_open(conn: sqlite3.Connection) -> None:
    # SQLite may have rolled back already (it can on SQLITE_FULL); a COMMIT that failed leaves
    # the transaction open.
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.execute(_RELAXED)


def _commit_then_relax(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("COMMIT")
    finally:
        conn.execute(_RELAXED)


def _begin_waiting(conn: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE`` while another process holds the lock: retried every 0.1 to 2 ms up
    to the busy timeout. SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25… ms between
    tries, so a worker and an API process sharing the file handed the lock to each other
    milliseconds late, every time."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    pause = 0.0001
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.002)


def _lower(value: object) -> str | None:
    return None if value is None else str(value).lower()


def sqlite_path(database_url: str) -> str:
    return database_url.removeprefix("sqlite:///") or ":memory:"


class SqliteStore(SqlStore):
    def __init__(self, path: str, box: SecretBox) -> None:
        super().__init__(box)
        self._path = path
        self._writer: _Writer | None = None
        self._reader: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._checkpoints = Checkpointer(path)
        # Watches for commits by other processes (see wait_for_work); used on the loop only.
        self._watch: sqlite3.Connection | None = None
        self._data_version: int | None = None
        self._wake = asyncio.Event()

    async def open(self) -> SqliteStore:
        self._writer = _Writer(await asyncio.to_thread(self._connect_writer))
        self._reader = await self._connect()
        self._checkpoints.start()
        return self

    def _connect_writer(self) -> sqlite3.Connection:
        try:
            # Used from the loop's thread and the writer's thread, never both at once (the lock).
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite database {self._path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        conn.create_function("lower", 1, _lower, deterministic=True)
        for pragma in _PRAGMAS:
            conn.execute(pragma)
        # The lock is tried without waiting on the loop's thread; see _begin.
        conn.execute("PRAGMA busy_timeout = 0")
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # hookline.store.checkpoints does it
        conn.execute(_RELAXED)
        return conn

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
        await self._checkpoints.close()
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        if self._writer is not None:
            async with self._lock:
                await self._writer.close()
        if self._reader is not None:
            await self._reader.close()
        self._writer = self._reader = None

    async def ping(self) -> None:
        try:
            await self._fetchrow("SELECT 1 AS one")
        except (sqlite3.Error, ValueError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    @asynccontextmanager
    async def _tx(self, *, durable: bool = True) -> AsyncIterator[Tx]:
        writer = self._writer
        assert writer is not None, "store is not open"
        conn = writer.conn
        async with self._lock:
            try:
                try:
                    if durable:
                        conn.execute("PRAGMA synchronous = FULL")
                    await self._begin(writer)
                    yield _Inline(conn)
                    if durable:  # the fsync, off the loop
                        await writer.run(_commit_then_relax, conn)
                    else:  # no fsync (synchronous = NORMAL): microseconds
                        conn.execute("COMMIT")
                    self._checkpoints.wrote()
                except BaseException:
                    # Shielded, and decided on the writer's thread after whatever it is still
                    # running (a cancelled request's BEGIN or COMMIT): no transaction may stay
                    # open, or every later BEGIN would fail.
                    await asyncio.shield(writer.run(_rollback_if_open, conn))
                    raise
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_FULL:
                    raise StoreUnavailable(f"the SQLite database is full: {exc}") from exc
                raise

    @staticmethod
    async def _begin(writer: _Writer) -> None:
        """``BEGIN IMMEDIATE`` right here if the database lock is free (the usual case with one
        process); else on the writer's thread, waiting up to the busy timeout for it."""
        try:
            writer.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            await writer.run(_begin_waiting, writer.conn)

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
        """Until this process signals work, another process commits to the file, or
        ``timeout``. Other processes are noticed through ``PRAGMA data_version`` (a look at the
        WAL index in shared memory, no disk I/O), every ``_WATCH_INTERVAL``: without it a worker
        process learnt of events published by an API process only at its next poll."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (remaining := deadline - loop.time()) > 0:
            try:
                await asyncio.wait_for(self._wake.wait(), min(remaining, _WATCH_INTERVAL))
                break
            except TimeoutError:
                pass
            if self._changed_elsewhere():
                break
        self._wake.clear()

    def _changed_elsewhere(self) -> bool:
        if self._watch is None:
            self._watch = sqlite3.connect(self._path, check_same_thread=False)
            self._watch.execute("PRAGMA busy_timeout = 0")
        try:
            (version,) = self._watch.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return True  # cannot tell: look for work
        changed: bool = version != self._data_version  # the first look, too: it may be late
        self._data_version = version
        return changed
