"""What a repository runs its statements on: a connection in a transaction, or a read-only one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from hookline.store.rows import Row


class Tx(Protocol):
    """A connection inside a transaction (or a read-only connection). Statements come rendered
    for its database (see :meth:`hookline.store.dialect.Dialect.render`)."""

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]: ...
    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...
    async def execute(self, sql: str, *args: Any) -> Any: ...
    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> Any: ...
