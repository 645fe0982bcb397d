"""The SQLite dialect: one write connection (serialised by a lock) and one read connection, in WAL.

Several processes may share the file: writes take the database lock with ``BEGIN IMMEDIATE``
and wait for it instead of failing. Workers in this process wake on an in-process signal;
workers in other processes notice commits through ``PRAGMA data_version`` within 10 ms.

Write transactions run their statements on the event loop's thread (see
:mod:`hookline.store.sqlite_writer`): only taking the lock from another process and the fsync of
a durable commit run on the writer's own thread. A thread hop per statement, as aiosqlite makes,
cost a turn of a busy event loop each: a claim of seven statements took tens of milliseconds
under load and capped the worker's rate. Reads keep aiosqlite's thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
import orjson

from hookline.domain.secretbox import SecretBox
from hookline.errors import StoreUnavailable
from hookline.store.base import Store
from hookline.store.checkpoints import Checkpointer
from hookline.store.dialect import Dialect
from hookline.store.rows import Row
from hookline.store.sqlite_writer import (
    BUSY_TIMEOUT_MS,
    RELAXED,
    Inline,
    Writer,
    begin_waiting,
    commit_then_relax,
    rollback_if_open,
    sqlite_sql,
)
from hookline.store.tx import Tx

_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys = OFF",
)
_WATCH_INTERVAL = 0.01


class _Conn:
    """Adapts an aiosqlite connection to the ``Tx`` protocol."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        found: Sequence[Row] = list(await self._conn.execute_fetchall(sql, args))  # type: ignore[arg-type]
        return found

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        found = await self.fetch(sql, *args)
        return found[0] if found else None

    async def execute(self, sql: str, *args: Any) -> int:
        cursor = await self._conn.execute(sql, args)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, list(args))


def _lower(value: object) -> str | None:
    return None if value is None else str(value).lower()


def sqlite_path(database_url: str) -> str:
    return database_url.removeprefix("sqlite:///") or ":memory:"


class SqliteDialect(Dialect):
    """SQLite's spelling (``?n`` placeholders, lists as JSON arrays, no row locks: a write
    transaction holds the whole database) and its connections (see the module's text)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path
        self._writer: Writer | None = None
        self._reader: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._checkpoints = Checkpointer(path)
        # Reads on the loop's thread: commits by other processes (see wait_for_work) and the
        # config version (see quick_fetchrow). Never used from another thread.
        self._watch: sqlite3.Connection | None = None
        self._data_version: int | None = None
        self._wake = asyncio.Event()

    # -- statements ---------------------------------------------------------------------------
    def placeholders(self, sql: str) -> str:
        return sqlite_sql(sql)

    def in_list(self, param: str) -> str:
        return f"IN (SELECT value FROM json_each({param}))"

    def not_in_list(self, param: str) -> str:
        return f"NOT IN (SELECT value FROM json_each({param}))"

    def room_of(self, param: str, column: str) -> str:
        # json_extract parses the object once per statement (json_each would parse it per row).
        return f"""json_extract({param}, '$."' || {column} || '"')"""

    def list_param(self, values: Sequence[str]) -> Any:
        return orjson.dumps(list(values)).decode()

    # -- connections --------------------------------------------------------------------------
    async def open(self) -> None:
        self._writer = Writer(await asyncio.to_thread(self._connect_writer))
        self._reader = await self._connect()
        self._checkpoints.start()

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
        conn.execute(RELAXED)
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

    async def quick_fetchrow(self, sql: str, *args: Any) -> Row | None:
        """Read on the loop's thread, not the reader's: every publish makes this one look-up by
        primary key, microseconds in WAL mode, where a reader never waits for a writer; the hop
        to the reader's thread and back cost more than the read. Should the file be busy all
        the same (a WAL recovery), the read waits on the reader's thread instead."""
        try:
            found: Row | None = self._watcher().execute(sql, args).fetchone()
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
            return await self.fetchrow(sql, *args)
        return found

    def _watcher(self) -> sqlite3.Connection:
        if self._watch is None:
            self._watch = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._watch.row_factory = sqlite3.Row
            self._watch.execute("PRAGMA busy_timeout = 0")
        return self._watch

    async def ping(self) -> None:
        try:
            await self.fetchrow("SELECT 1 AS one")
        except (sqlite3.Error, ValueError) as exc:  # ValueError: the connection is closed
            raise StoreUnavailable(str(exc)) from exc

    @asynccontextmanager
    async def tx(
        self, *, durable: bool = True, custom_plans: bool = False, index_order: bool = False
    ) -> AsyncIterator[Tx]:
        writer = self._writer
        assert writer is not None, "store is not open"
        conn = writer.conn
        async with self._lock:
            try:
                try:
                    if durable:
                        conn.execute("PRAGMA synchronous = FULL")
                    await self._begin(writer)
                    yield Inline(conn)
                    if durable:  # the fsync, off the loop
                        await writer.run(commit_then_relax, conn)
                    else:  # no fsync (synchronous = NORMAL): microseconds
                        conn.execute("COMMIT")
                    self._checkpoints.wrote()
                except BaseException:
                    # Shielded, and decided on the writer's thread after whatever it is still
                    # running (a cancelled request's BEGIN or COMMIT): no transaction may stay
                    # open, or every later BEGIN would fail.
                    await asyncio.shield(writer.run(rollback_if_open, conn))
                    raise
            except sqlite3.OperationalError as exc:
                self._raise_translated(exc)
                raise

    @staticmethod
    async def _begin(writer: Writer) -> None:
        """``BEGIN IMMEDIATE`` right here if the database lock is free (the usual case with one
        process); else on the writer's thread, waiting up to the busy timeout for it."""
        try:
            writer.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            await writer.run(begin_waiting, writer.conn)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        assert self._reader is not None, "store is not open"
        try:
            yield _Conn(self._reader)
        except sqlite3.OperationalError as exc:
            self._raise_translated(exc)
            raise

    def _raise_translated(self, exc: BaseException) -> None:
        translated = self.translate(exc)
        if translated is not None:
            raise translated from exc

    # -- errors -------------------------------------------------------------------------------
    def is_unique_violation(self, exc: BaseException, table: str | None = None) -> bool:
        # "UNIQUE constraint failed: events.id"
        message = str(exc)
        return (
            isinstance(exc, sqlite3.IntegrityError)
            and "UNIQUE" in message
            and (table is None or f" {table}." in message)
        )

    def translate(self, exc: BaseException) -> Exception | None:
        """A lock held past the busy timeout (by another process, or a long backup) means what
        an unreachable PostgreSQL means: ``StoreUnavailable``, a 503 with ``Retry-After``, not a
        500. So does a full disk or a database that cannot be opened."""
        if not isinstance(exc, sqlite3.OperationalError):
            return None
        if _busy(exc):
            return StoreUnavailable(f"the SQLite database is busy: {exc}")
        code = exc.sqlite_errorcode & 0xFF
        if code == sqlite3.SQLITE_FULL:
            return StoreUnavailable(f"the SQLite database is full: {exc}")
        if code == sqlite3.SQLITE_CANTOPEN:
            return StoreUnavailable(f"cannot open SQLite database {self._path}: {exc}")
        return None

    # -- wake-ups -----------------------------------------------------------------------------
    async def after_enqueue(self, tx: Tx) -> None:
        return None  # this process's workers are woken by notify_local; others watch the file

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
        try:
            (version,) = self._watcher().execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return True  # cannot tell: look for work
        changed: bool = version != self._data_version  # the first look, too: it may be late
        self._data_version = version
        return changed


def _busy(exc: sqlite3.OperationalError) -> bool:
    return exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class SqliteStore(Store):
    """The store on a SQLite file."""

    dialect: SqliteDialect

    def __init__(self, path: str, box: SecretBox) -> None:
        super().__init__(SqliteDialect(path), box)

    async def open(self) -> SqliteStore:
        await self.dialect.open()
        return self
