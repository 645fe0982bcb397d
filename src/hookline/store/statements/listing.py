"""Listings: a statement whose conditions depend on which filters a caller gives.

A listing has a fixed head (its table and first condition), optional conditions of one
parameter each (``$?`` stands for it), and an order; the page size is a parameter too. Each
combination of filters is rendered once, the first time it is asked for, and kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class Renders(Protocol):
    def render(self, sql: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Listing:
    """``head`` has parameters ``$1…$k``; ``conditions`` each one ``$?``; ``order`` follows."""

    head: str
    params: int
    conditions: tuple[str, ...]
    order: str


class RenderedListing:
    """A listing for one dialect: the statement of each combination of filters, rendered once."""

    def __init__(self, listing: Listing, dialect: Renders) -> None:
        self._listing = listing
        self._dialect = dialect
        self._rendered: dict[tuple[bool, ...], str] = {}

    def query(
        self, head_args: Sequence[Any], filters: Sequence[Any], limit: int
    ) -> tuple[str, list[Any]]:
        """The statement and its arguments for ``filters`` (one per condition, None to leave it
        out), fetching one row more than ``limit`` (it says a next page exists)."""
        used = tuple(value is not None for value in filters)
        sql = self._rendered.get(used)
        if sql is None:
            sql = self._rendered[used] = self._dialect.render(self._build(used))
        args = [*head_args, *(value for value in filters if value is not None)]
        return sql, [*args, int(limit) + 1]

    def _build(self, used: tuple[bool, ...]) -> str:
        listing, n = self._listing, self._listing.params
        parts = [listing.head]
        for condition, wanted in zip(listing.conditions, used, strict=True):
            if wanted:
                n += 1
                parts.append(" AND " + condition.replace("$?", f"${n}"))
        parts.append(f"{listing.order} LIMIT ${n + 1}")
        return "".join(parts)
