"""The PostgreSQL dialect: an asyncpg pool, ``FOR UPDATE SKIP LOCKED`` claims, LISTEN/NOTIFY
wake-ups.

Many API and worker processes on many machines share one database; PostgreSQL's row locks are
the only coordination between them.

Pooled connections carry no session state (no ``SET`` without ``LOCAL``, no session advisory
locks, no ``LISTEN``: the listener has a connection of its own), so the pool hands them back
without asyncpg's reset query, one round trip less per use.

Wake-ups are sent after commit, not inside the enqueuing transaction: a ``NOTIFY`` in a
transaction takes a cluster-wide lock at commit (``PreCommit_Notify``) and would serialise every
publishing commit. A transaction that queued work marks the store's :class:`Notifier` once it
has committed; the notifier sends at most one ``NOTIFY`` per ``notify_interval`` (on a connection
of its own), whatever the number of commits in between. Workers also poll, so a lost wake-up
costs at most their poll interval.

Behind PgBouncer in transaction mode (``pooler="transaction"``) a client connection is bound to
a server connection only for the length of a transaction, so nothing may outlive one: asyncpg's
statement cache is off (``statement_cache_size=0``: each statement is parsed unnamed, in the
same round trips as its execution, and never reused), and no pooled connection LISTENs. The
listener connects to ``listen_dsn``, a direct PostgreSQL URL; without one the workers only poll.
``NOTIFY`` still goes through the pooler (one statement, its own transaction).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

import asyncpg

from hookline.domain.models import AttemptOutcome
from hookline.domain.secretbox import SecretBox
from hookline.errors import StoreUnavailable
from hookline.store import pg_arrays
from hookline.store.base import Store
from hookline.store.dialect import Dialect
from hookline.store.notifier import NOTIFY_INTERVAL, Notifier
from hookline.store.partitions import PartitionRepository
from hookline.store.tx import Tx

__all__ = ["CHANNEL", "NOTIFY_INTERVAL", "Notifier", "PostgresDialect", "PostgresStore"]

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
#: Errors of a server that is up but cannot take the work now: as unavailable to the caller.
_BUSY = (
    asyncpg.TooManyConnectionsError,
    asyncpg.LockNotAvailableError,  # a lock_timeout ran out
)


#: For the worker's claims and results: asyncpg prepares each statement once per connection,
#: and PostgreSQL's plan cache then keeps a generic plan chosen while the tables were small or
#: never analyzed (a fresh database, or autovacuum off). The claim's join read every event by
#: sequential scan, and a batch of results joined its array of ids to ``deliveries`` by hash,
#: reading the whole table twice per batch, hundreds of times a second once it had grown.
#: No bitmap scans either: for the claim's range of due times one reads every index entry of
#: the range, those of deliveries finished since the last vacuum included (thousands per claim
#: under load), and never marks them dead, where a plain index scan in due order stops at its
#: limit and marks them for the next claims to skip. Not for every statement: planning each
#: publish's inserts again costs more than it could save.
_CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL enable_bitmapscan = off"
#: For the claim: no sort of the due deliveries it reads. The claim must walk the due index in
#: order and stop at its limit. Planned on missing or stale statistics (each new day's
#: partition starts with none; a server without autovacuum never gathers them), PostgreSQL
#: believed a couple of rows due, read every due row and sorted them instead: with 40,000
#: deliveries waiting, 40 ms and a 3.7 MB sort on disk per claim, growing with the backlog,
#: so a worker that fell behind fell further behind. With sorts disabled the only plan left
#: is the index in due order (a merge of the partitions' indexes). No JIT either: the sorts
#: that remain (a few claimed rows by webhook) then cost 10^10 on paper, past JIT's threshold,
#: and compiling took a second per claim. No sequential scans: every read of a claim has an
#: index, but a partition that looks empty to the planner (never analyzed, or analyzed while
#: empty) looks cheapest read whole. The oldest pending delivery (``pending_floor``), read
#: once a second, was found by reading all of the day's deliveries: 33 ms at 38,000 rows,
#: growing with the day.
_INDEX_ORDER = "SET LOCAL enable_sort = off; SET LOCAL jit = off; SET LOCAL enable_seqscan = off"


@asynccontextmanager
async def _begun(conn: asyncpg.Connection, settings: Sequence[str]) -> AsyncIterator[None]:
    """A transaction begun with its ``SET LOCAL`` settings in the same round trip (asyncpg's
    own transaction sends ``BEGIN`` alone): the worker's claims and results, hundreds a second,
    each cost one round trip less. Committed at the end, rolled back on any exception; a
    connection that cannot even roll back is closed (the pool replaces it)."""
    try:
        await conn.execute("; ".join(("BEGIN", *settings)))
        yield
    except BaseException:
        if not conn.is_closed() and conn.is_in_transaction():
            try:
                await conn.execute("ROLLBACK")
            except BaseException:
                conn.terminate()
        raise
    await conn.execute("COMMIT")


def _no_partition(exc: asyncpg.CheckViolationError) -> StoreUnavailable | None:
    """A row no time partition takes: every process makes them days ahead, so none were made
    for that long (no process ran) or a clock is far ahead. None for any other violation."""
    if "no partition" not in str(exc):
        return None
    return StoreUnavailable(
        f"PostgreSQL has no partition for this row ({exc}): see docs/operations.md,"
        " 'Partitions and retention'"
    )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset: nothing to undo (asyncpg still rolls back an unfinished transaction)."""


class PostgresDialect(Dialect):
    """PostgreSQL's spelling (row locks, lists as arrays, JSON rooms) and its connections."""

    LOCK = " FOR UPDATE SKIP LOCKED"
    ROW_LOCK = " FOR UPDATE"
    ID_CEILING = True
    IN_ROWS = ("= ANY(ARRAY", ")")

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 2,
        max_size: int = 10,
        notify_interval: float = NOTIFY_INTERVAL,
        pooler: str = "none",
        listen_dsn: str | None = None,
    ) -> None:
        super().__init__()
        self._dsn = dsn
        self.pooler = pooler
        # Connection options for every connection to ``dsn`` (the pool's and the notifier's).
        self._connect_args: dict[str, Any] = (
            {"statement_cache_size": 0} if pooler == "transaction" else {}
        )
        # Where to LISTEN: a direct URL if given; the pooled one unless that is a transaction
        # pooler (a LISTEN there would be lost with the server connection); else nowhere.
        self._listen_dsn = listen_dsn or (None if pooler == "transaction" else dsn)
        self._pool: asyncpg.Pool | None = None
        self._sizes = (min_size, max_size)
        self._listener: asyncpg.Connection | None = None
        self._notifying: asyncpg.Connection | None = None
        self._wake = asyncio.Event()
        self._polling_only = False  # logged once: no listen URL behind a transaction pooler
        self.notifier = Notifier(self._notify_workers, interval=notify_interval)
        # Connections whose open transaction queued work: NOTIFY once it has committed.
        self._enqueued: set[Tx] = set()

    # -- statements ---------------------------------------------------------------------------
    def in_list(self, param: str) -> str:
        return f"= ANY({param}::text[])"

    def not_in_list(self, param: str) -> str:
        return f"<> ALL({param}::text[])"

    def room_of(self, param: str, column: str) -> str:
        return f"({param}::jsonb ->> {column})::int"  # a binary search in the object

    def list_param(self, values: Sequence[str]) -> Any:
        return list(values)

    # -- connections --------------------------------------------------------------------------
    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=self._sizes[0],
                max_size=self._sizes[1],
                timeout=10,
                reset=_keep_session,
                **self._connect_args,
            )
        except (*_UNAVAILABLE, *_BUSY) as exc:
            raise StoreUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc

    async def close(self) -> None:
        await self.notifier.close()  # first: a pending wake-up still goes out
        for conn in (self._notifying, self._listener):
            if conn is not None and not conn.is_closed():
                with suppress(*_UNAVAILABLE):  # the server is gone: the socket is closed anyway
                    await conn.close(timeout=5)
        if self._pool is not None:
            await self._pool.close()
        self._pool = self._listener = self._notifying = None

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[asyncpg.Connection]:
        assert self._pool is not None, "store is not open"
        try:
            conn = await self._pool.acquire(timeout=10)
        except (*_UNAVAILABLE, *_BUSY) as exc:
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
        except _BUSY as exc:
            raise StoreUnavailable(f"PostgreSQL is busy: {exc}") from exc
        except asyncpg.CheckViolationError as exc:
            unavailable = _no_partition(exc)
            if unavailable is None:
                raise
            raise unavailable from exc
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
    async def tx(
        self, *, durable: bool = True, custom_plans: bool = False, index_order: bool = False
    ) -> AsyncIterator[Tx]:
        settings = []
        if not durable:  # see Dialect.tx: no wait for the WAL flush
            settings.append("SET LOCAL synchronous_commit = off")
        if custom_plans:
            settings.append(_CUSTOM_PLANS)
        if index_order:
            settings.append(_INDEX_ORDER)
        async with self._acquire() as conn:
            try:
                if settings:
                    async with _begun(conn, settings):
                        yield conn
                else:
                    async with conn.transaction():
                        yield conn
            except BaseException:
                self._enqueued.discard(conn)
                raise
            if conn in self._enqueued:  # committed
                self._enqueued.discard(conn)
                self.notifier.mark()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        async with self._acquire() as conn:
            yield conn

    async def insert_many(
        self,
        tx: Tx,
        table: str,
        columns: tuple[str, ...],
        values: Sequence[Sequence[Any]],
        suffix: str = "",
    ) -> None:
        if values:  # one statement over arrays (see pg_arrays)
            await tx.execute(
                pg_arrays.insert_sql(table, columns, suffix), *pg_arrays.arrays(values)
            )

    async def publish_plain(
        self, events: Sequence[Sequence[Any]], deliveries: Sequence[Sequence[Any]]
    ) -> set[str] | None:
        async with self._acquire() as conn:
            stored = await pg_arrays.publish(conn, events, deliveries)
        if stored and deliveries:
            self.notifier.mark()  # committed: as ``tx`` does after a commit that queued work
        return stored

    async def record_results(self, tx: Tx, outcomes: Sequence[AttemptOutcome], now: float) -> bool:
        if not pg_arrays.one_per_delivery(outcomes):
            return False
        await pg_arrays.store_results(tx, outcomes, now)
        return True

    # -- errors -------------------------------------------------------------------------------
    def is_unique_violation(self, exc: BaseException, table: str | None = None) -> bool:
        if not isinstance(exc, asyncpg.UniqueViolationError):
            return False
        found = exc.table_name or ""  # a time partition is named for its table: events_p…
        return table is None or found == table or found.startswith(f"{table}_p")

    def translate(self, exc: BaseException) -> Exception | None:
        """A lost or refused connection, a server shutting down or out of connections, a lock
        not granted in time: the database is unavailable or busy."""
        if isinstance(exc, StoreUnavailable):
            return exc
        if isinstance(exc, _UNAVAILABLE):
            return StoreUnavailable(f"PostgreSQL is unavailable: {exc}")
        if isinstance(exc, _BUSY):
            return StoreUnavailable(f"PostgreSQL is busy: {exc}")
        if isinstance(exc, asyncpg.CheckViolationError):
            return _no_partition(exc)
        return None

    # -- wake-ups -----------------------------------------------------------------------------
    async def after_enqueue(self, tx: Tx) -> None:
        # Not a NOTIFY here (see the module docstring): ``tx`` sends one after the commit.
        self._enqueued.add(tx)

    async def _notify_workers(self) -> None:
        """One wake-up for every worker of the cluster (the notifier calls it).

        On a connection of its own, not a pooled one: while publishers keep the pool busy the
        wake-up would queue behind them for a connection (tens of milliseconds late) and take
        one from them.
        """
        conn = self._notifying
        if conn is not None and not conn.is_closed():
            try:
                await conn.execute(f"NOTIFY {CHANNEL}", timeout=5)
                return
            except _UNAVAILABLE:
                conn.terminate()  # ended while idle (a restart, a timeout): try a new one
        self._notifying = None
        self._notifying = await asyncpg.connect(self._dsn, timeout=5, **self._connect_args)
        await self._notifying.execute(f"NOTIFY {CHANNEL}", timeout=5)

    def notify_local(self) -> None:
        # This process's workers only. The recorder calls it after each batch of attempts it
        # stores, which can make work due (a FIFO successor, an immediate retry); the worker
        # that recorded them is the one woken, and it has a free slot since an attempt ended.
        # Waking every worker of the cluster for that would cost a claim in each of them.
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
        if self._listen_dsn is None:
            if not self._polling_only:
                self._polling_only = True
                log.info(
                    "no LISTEN behind a transaction pooler without HOOKLINE_LISTEN_DATABASE_URL:"
                    " workers find new work by polling (HOOKLINE_POLL_INTERVAL)"
                )
            return
        try:
            self._listener = await asyncpg.connect(self._listen_dsn, timeout=5)
            await self._listener.add_listener(CHANNEL, self._on_notify)
        except _UNAVAILABLE as exc:
            # Polling still finds the work; the listener is retried on the next wait.
            log.warning("LISTEN connection failed, polling instead: %s", exc)
            self._listener = None

    def _on_notify(self, *_: object) -> None:
        self._wake.set()


class PostgresStore(Store):
    """The store on a PostgreSQL database."""

    dialect: PostgresDialect

    def __init__(
        self,
        dsn: str,
        box: SecretBox,
        *,
        min_size: int = 2,
        max_size: int = 10,
        notify_interval: float = NOTIFY_INTERVAL,
        pooler: str = "none",
        listen_dsn: str | None = None,
    ) -> None:
        dialect = PostgresDialect(
            dsn,
            min_size=min_size,
            max_size=max_size,
            notify_interval=notify_interval,
            pooler=pooler,
            listen_dsn=listen_dsn,
        )
        super().__init__(dialect, box)
        self.partitions = PartitionRepository(dialect)

    async def open(self) -> PostgresStore:
        await self.dialect.open()
        return self
