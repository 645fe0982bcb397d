"""The dialect: what differs between SQLite and PostgreSQL, in one object per database.

Every repository is written once against this interface. A statement is written with
PostgreSQL's ``$n`` placeholders and a few tokens for what the databases spell differently;
:meth:`Dialect.render` turns it into the database's own SQL, once, when the store is built:

- ``{lock}``: the claim's lock of the rows it reads, skipping those locked by other workers
  (``FOR UPDATE SKIP LOCKED``; nothing on SQLite, whose write transaction excludes the others);
- ``{row_lock}``: a lock of the rows a SELECT reads, until commit (``FOR UPDATE``; nothing);
- ``{in $n}`` / ``{not_in $n}``: a column tested against the list parameter ``$n``, whose value
  is :meth:`Dialect.list_param` of the values;
- ``{room $n column}``: the integer stored under the key ``column`` in the JSON object
  parameter ``$n`` (NULL when absent);
- ``{ceiling column $n}``: ``AND column <= $n`` where :attr:`Dialect.ID_CEILING` (PostgreSQL,
  whose time partitions such a bound prunes); nothing on SQLite, whose planner would take the
  bound for the better index (the statement then has one parameter less).
- ``column {in_rows}(SELECT …){end_rows}``: the column is one of the subquery's rows, the
  subquery run once and the column then looked up by value (PostgreSQL:
  ``= ANY(ARRAY(SELECT …))``, which the planner cannot turn into a join that runs the subquery
  again for every row of the table; SQLite: ``IN (SELECT …)``, which it runs once anyway).

Besides rendering, a dialect owns the connections: transactions and reads, writes of many rows,
the test for a unique violation, the translation of driver errors that mean "the database is
unavailable or busy" into :class:`~hookline.errors.StoreUnavailable` (a 503 with
``Retry-After``), and the wake-ups of workers after work was queued.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from hookline.domain.models import AttemptOutcome
from hookline.store.rows import Row, rowcount
from hookline.store.tx import Tx

__all__ = ["Dialect", "Tx"]

_TOKEN = re.compile(r"\{(\w+)((?: [^{}\s]+)*)\}")
#: A set of named statements (a NamedTuple of SQL strings).
S = TypeVar("S", bound=tuple[str, ...])


class Dialect(ABC):
    """One database's SQL spelling, connections and notifications (see the module's text)."""

    #: ``{lock}``: the claim's row lock, skipping rows locked by others.
    LOCK = ""
    #: ``{row_lock}``: the lock of the rows a SELECT reads, until commit.
    ROW_LOCK = ""
    #: Whether ``{ceiling column $n}`` bounds ``column`` (and the caller passes ``$n``).
    ID_CEILING = False
    #: ``{in_rows}`` and ``{end_rows}``: around a subquery whose rows a column is one of.
    IN_ROWS = ("IN ", "")

    def __init__(self) -> None:
        self._inserts: dict[tuple[str, tuple[str, ...], str], str] = {}

    # -- statements ---------------------------------------------------------------------------
    def render(self, sql: str) -> str:
        """A statement in this database's SQL (see the module's text for the tokens)."""
        return self.placeholders(_TOKEN.sub(self._token, sql))

    def prepare(self, statements: S) -> S:
        """Every statement of a named set, rendered (once, when a repository is built)."""
        return type(statements)(*(self.render(sql) for sql in statements))

    def _token(self, match: re.Match[str]) -> str:
        name, args = match.group(1), match.group(2).split()
        if name == "lock":
            return self.LOCK
        if name == "row_lock":
            return self.ROW_LOCK
        if name == "in":
            return self.in_list(args[0])
        if name == "not_in":
            return self.not_in_list(args[0])
        if name == "room":
            return self.room_of(args[0], args[1])
        if name == "ceiling":
            return f" AND {args[0]} <= {args[1]}" if self.ID_CEILING else ""
        if name == "in_rows":
            return self.IN_ROWS[0]
        if name == "end_rows":
            return self.IN_ROWS[1]
        raise ValueError(f"unknown token {match.group(0)} in a statement")

    def placeholders(self, sql: str) -> str:
        """``$n`` placeholders as this database writes them."""
        return sql

    @abstractmethod
    def in_list(self, param: str) -> str:
        """SQL testing a column against the list parameter ``param`` (``$n``)."""

    @abstractmethod
    def not_in_list(self, param: str) -> str: ...

    @abstractmethod
    def room_of(self, param: str, column: str) -> str:
        """SQL for the integer under key ``column`` in the JSON object parameter ``param``."""

    @abstractmethod
    def list_param(self, values: Sequence[str]) -> Any:
        """The value of a list parameter (see ``{in $n}``)."""

    # -- connections --------------------------------------------------------------------------
    @abstractmethod
    def tx(
        self, *, durable: bool = True, custom_plans: bool = False, index_order: bool = False
    ) -> AbstractAsyncContextManager[Tx]:
        """A write transaction. ``durable=False`` is for the worker's own bookkeeping (claims,
        attempt results, releases): its commit need not reach the disk before it returns, so a
        power loss or database crash may forget the last moments of it. That costs a repeated
        delivery (delivery is at least once), never an accepted event; everything else is
        durable on commit.

        ``custom_plans``: plan each statement for its parameters where the database caches
        plans (PostgreSQL), for queries whose best plan depends on them and on the tables'
        current sizes. ``index_order``: never sort rows read (PostgreSQL), for a query that
        must walk an index in order and stop at its ``LIMIT`` whatever the planner believes
        the tables hold (the claim)."""

    @abstractmethod
    def read(self) -> AbstractAsyncContextManager[Tx]:
        """A connection for reads outside any write transaction."""

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        async with self.read() as conn:
            return await conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        async with self.read() as conn:
            return await conn.fetchrow(sql, *args)

    async def quick_fetchrow(self, sql: str, *args: Any) -> Row | None:
        """A read by primary key that every publish makes: where the database allows it, on the
        event loop's thread (see the SQLite dialect); else as :meth:`fetchrow`."""
        return await self.fetchrow(sql, *args)

    async def write(self, sql: str, *args: Any) -> int:
        """One statement in a transaction of its own; how many rows it changed."""
        async with self.tx() as tx:
            return rowcount(await tx.execute(sql, *args))

    async def insert_many(
        self,
        tx: Tx,
        table: str,
        columns: tuple[str, ...],
        values: Sequence[Sequence[Any]],
        suffix: str = "",
    ) -> None:
        """Insert rows of ``columns``' values; ``suffix`` ends the statement (``ON CONFLICT …``).
        One execution per row here (SQLite runs them all in one call); a dialect whose server
        pays for each execution overrides it."""
        if values:
            await tx.executemany(self._insert_sql(table, columns, suffix), values)

    def _insert_sql(self, table: str, columns: tuple[str, ...], suffix: str) -> str:
        key = (table, columns, suffix)
        sql = self._inserts.get(key)
        if sql is None:
            marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
            names = ", ".join(columns)
            sql = self._inserts[key] = self.render(
                f"INSERT INTO {table} ({names}) VALUES ({marks}){suffix}"
            )
        return sql

    async def publish_plain(
        self, events: Sequence[Sequence[Any]], deliveries: Sequence[Sequence[Any]]
    ) -> set[str] | None:
        """Store plain publishes in one statement committed on its own, if this database can:
        events (``rows.TRACED_EVENT_COLUMNS``' values, then the routing version, None when
        unchecked) whose version is still their workspace's, and the deliveries of those
        (``rows.DELIVERY_COLUMNS``' values, then their event's routing version). The ids of
        the events stored; None leaves it all to a transaction of the caller's."""
        return None

    async def record_results(self, tx: Tx, outcomes: Sequence[AttemptOutcome], now: float) -> bool:
        """Store a batch of attempt results in one statement per table, if this database can
        (``True``); ``False`` leaves them to the queue's row-by-row statements."""
        return False

    # -- errors -------------------------------------------------------------------------------
    @abstractmethod
    def is_unique_violation(self, exc: BaseException, table: str | None = None) -> bool:
        """Whether ``exc`` is a unique constraint's violation (of ``table``'s, if given)."""

    @abstractmethod
    def translate(self, exc: BaseException) -> Exception | None:
        """``StoreUnavailable`` for a driver error that means the database is unavailable or
        busy; None for any other error (raised as it is)."""

    # -- lifecycle and wake-ups ---------------------------------------------------------------
    @abstractmethod
    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` if the database cannot be reached."""
        try:
            await self.fetchrow("SELECT 1 AS one")
        except Exception as exc:
            translated = self.translate(exc)
            if translated is None:
                raise
            raise translated from exc

    @abstractmethod
    async def after_enqueue(self, tx: Tx) -> None:
        """Inside a transaction that queued work: have workers told once it commits."""

    @abstractmethod
    def notify_local(self) -> None:
        """Wake this process's waiting workers (used after in-process writes)."""

    @abstractmethod
    async def wait_for_work(self, timeout: float) -> None:
        """Return when new deliveries may be due (a notification) or after ``timeout``."""
