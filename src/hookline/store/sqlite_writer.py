"""The SQLite write connection: its statements run on the event loop's thread inside a
transaction, and only the steps that may wait (taking the lock held by another process, the
fsync of a durable commit) run on the writer's own thread. See :mod:`hookline.store.sqlite`."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from hookline.store.rows import Row

_PLACEHOLDER = re.compile(r"\$(\d+)")
BUSY_TIMEOUT_MS = 30_000
# The write connection between transactions: a commit reaches the disk only if its transaction
# asks for it (``durable``: FULL for that one commit; it also covers every commit before it).
RELAXED = "PRAGMA synchronous = NORMAL"


def sqlite_sql(sql: str) -> str:
    """``$n`` placeholders (shared with PostgreSQL) as SQLite's ``?n`` (when a statement is
    rendered, not when it runs)."""
    return _PLACEHOLDER.sub(r"?\1", sql)


class Inline:
    """The ``Tx`` protocol on the write connection, run synchronously: only ever used between
    ``BEGIN IMMEDIATE`` and ``COMMIT``, under the store's lock, where no statement waits.
    Statements come rendered for SQLite (``?n`` placeholders)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        found: Sequence[Row] = self._conn.execute(sql, args).fetchall()
        return found

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        found: Row | None = self._conn.execute(sql, args).fetchone()
        return found

    async def execute(self, sql: str, *args: Any) -> int:
        return self._conn.execute(sql, args).rowcount

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(sql, args)


T = TypeVar("T")


class Writer:
    """The write connection and the one thread that may wait on its behalf."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="hookline-sqlite-writer")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, partial(fn, *args))

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """One statement on the writer's thread (call it holding the store's lock)."""
        return await self.run(lambda: list(self.conn.execute(sql, params).fetchall()))

    async def close(self) -> None:
        await self.run(self.conn.close)
        self._thread.shutdown(wait=False)


def rollback_if_open(conn: sqlite3.Connection) -> None:
    # SQLite may have rolled back already (it can on SQLITE_FULL); a COMMIT that failed leaves
    # the transaction open.
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.execute(RELAXED)


def commit_then_relax(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("COMMIT")
    finally:
        conn.execute(RELAXED)


def begin_waiting(conn: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE`` while another process holds the lock: retried every 0.1 to 2 ms up
    to the busy timeout. SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25… ms between
    tries, so a worker and an API process sharing the file handed the lock to each other
    milliseconds late, every time."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
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
