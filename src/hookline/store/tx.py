"""The SQL primitives every dialect provides and every group of SQL operations builds on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from functools import cache
from typing import Any, Protocol

from hookline.store.rows import Row


class Tx(Protocol):
    """A connection inside a transaction (or a read-only connection)."""

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]: ...
    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...
    async def execute(self, sql: str, *args: Any) -> Any: ...
    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> Any: ...


class SqlPrimitives(ABC):
    """Transactions, reads and list parameters; statements use ``$n`` placeholders."""

    _LOCK_CLAUSE = ""

    @abstractmethod
    def _tx(
        self, *, durable: bool = True, custom_plans: bool = False
    ) -> AbstractAsyncContextManager[Tx]:
        """A write transaction. ``durable=False`` is for the worker's own bookkeeping (claims,
        attempt results, releases): its commit need not reach the disk before it returns, so a
        power loss or database crash may forget the last moments of it. That costs a repeated
        delivery (delivery is at least once), never an accepted event; everything else is
        durable on commit.

        ``custom_plans``: plan each statement for its parameters where the database caches
        plans (PostgreSQL), for queries whose best plan depends on them and on the tables'
        current sizes."""

    @abstractmethod
    def _read(self) -> AbstractAsyncContextManager[Tx]: ...

    async def _fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        async with self._read() as conn:
            return await conn.fetch(sql, *args)

    async def _fetchrow(self, sql: str, *args: Any) -> Row | None:
        async with self._read() as conn:
            return await conn.fetchrow(sql, *args)

    async def _insert_many(
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
            await tx.executemany(_insert_sql(table, columns, suffix), values)

    @abstractmethod
    def _in(self, n: int) -> str:
        """SQL testing a column against list parameter ``$n``, e.g. ``= ANY($n)``."""

    @abstractmethod
    def _not_in(self, n: int) -> str: ...

    @abstractmethod
    def _list(self, values: Sequence[str]) -> Any: ...

    @abstractmethod
    def _room_of(self, n: int, column: str) -> str:
        """SQL for the integer stored under key ``column`` in the JSON object parameter ``$n``
        (NULL when absent)."""

    @abstractmethod
    def _is_unique_violation(self, exc: BaseException) -> bool: ...


@cache
def _insert_sql(table: str, columns: tuple[str, ...], suffix: str) -> str:
    marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}){suffix}"
