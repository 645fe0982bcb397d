"""PostgreSQL dialect: an asyncpg pool, ``FOR UPDATE SKIP LOCKED`` claims, LISTEN/NOTIFY wake-ups.

Many API and worker processes on many machines share one database; PostgreSQL's row locks are
the only coordination between them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

import asyncpg

from hookline.errors import StoreUnavailable
from hookline.secretbox import SecretBox
from hookline.store.sql import SqlStore
from hookline.store.tx import Tx

log = logging.getLogger(__name__)
CHANNEL = "hookline_work"
_UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,  # a query in flight when the server stops or restarts
    asyncpg.CrashShutdownError,
    asyncpg.InterfaceError,
    # A shutdown notice that reaches an idle connection leaves its protocol in an error state
    # until the socket closes: the next query fails with this instead of a connection error.
    asyncpg.InternalClientError,
    TimeoutError,
)


class PostgresStore(SqlStore):
    _LOCK_CLAUSE = " FOR UPDATE SKIP LOCKED"
    _ROW_LOCK = " FOR UPDATE"

    def __init__(self, dsn: str, box: SecretBox, *, min_size: int = 2, max_size: int = 10) -> None:
        super().__init__(box)
        self._dsn = dsn
        self._pool: asyncpg.Pool | None = None
        self._sizes = (min_size, max_size)
        self._listener: asyncpg.Connection | None = None
        self._wake = asyncio.Event()

    async def open(self) -> PostgresStore:
        try:
            self._pool = await asyncpg.create_pool(
                self._dsn, min_size=self._sizes[0], max_size=self._sizes[1], timeout=10
            )
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc
        return self

    async def close(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
        if self._pool is not None:
            await self._pool.close()
        self._pool = self._listener = None

    async def ping(self) -> None:
        await self._fetchrow("SELECT 1 AS one")

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[asyncpg.Connection]:
        assert self._pool is not None, "store is not open"
        try:
            conn = await self._pool.acquire(timeout=10)
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"PostgreSQL is unavailable: {exc}") from exc
        try:
            yield conn
        except _UNAVAILABLE as exc:
            # A failed connection is never handed out again, nor are its siblings: a server
            # restart ended them all, and each would fail its next request.
            with suppress(asyncpg.InterfaceError):  # the pool let a closed one go
                conn.terminate()
            await self._pool.expire_connections()
            raise StoreUnavailable(f"PostgreSQL connection lost: {exc}") from exc
        finally:
            await self._release(conn)

    async def _release(self, conn: asyncpg.Connection) -> None:
        assert self._pool is not None, "store is not open"
        try:
            await self._pool.release(conn, timeout=5)
        except _UNAVAILABLE as exc:
            # The pool has dropped the connection. The work done on it is already committed
            # or rolled back, so this must not turn a success into an error.
            log.info("discarded a broken PostgreSQL connection: %s", exc)

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[Tx]:
        async with self._acquire() as conn, conn.transaction():
            yield conn

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[Tx]:
        async with self._acquire() as conn:
            yield conn

    def _in(self, n: int) -> str:
        return f"= ANY(${n}::text[])"

    def _not_in(self, n: int) -> str:
        return f"<> ALL(${n}::text[])"

    def _list(self, values: Sequence[str]) -> Any:
        return list(values)

    def _is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, asyncpg.UniqueViolationError)

    async def _after_enqueue(self, tx: Tx) -> None:
        await tx.execute(f"NOTIFY {CHANNEL}")

    def notify_local(self) -> None:
        self._wake.set()

    async def wait_for_work(self, timeout: float) -> None:
        await self._ensure_listener()
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            pass
        self._wake.clear()

    async def _ensure_listener(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            return
        try:
            self._listener = await asyncpg.connect(self._dsn, timeout=5)
            await self._listener.add_listener(CHANNEL, self._on_notify)
        except _UNAVAILABLE as exc:
            # Polling still finds the work; the listener is retried on the next wait.
            log.warning("LISTEN connection failed, polling instead: %s", exc)
            self._listener = None

    def _on_notify(self, *_: object) -> None:
        self._wake.set()
