"""Svix's pagination: ``limit`` (default 50, at most 250: a larger one is refused with 422, as
the Svix server does), ``iterator`` (the last id of the page before; ``-`` and the first id of
the page after, to go back), answered as ``{data, iterator, prevIterator, done}``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Query

T = TypeVar("T")

#: The most items a page may have.
MAX_LIMIT = 250

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (default 50)")]
Iterator = Annotated[
    str | None,
    Query(max_length=300, description="The `iterator` or `prevIterator` of the page before"),
]


def cursor(iterator: str | None) -> tuple[str | None, bool]:
    """The id a page starts after, and whether it is read backwards (a ``-`` iterator)."""
    if iterator and iterator.startswith("-"):
        return iterator[1:], True
    return iterator or None, False


def page(
    items: Sequence[T], more: bool, out: Callable[[T], Any], id_of: Callable[[T], str]
) -> dict[str, Any]:
    """The list response of a page of ``items`` (``more``: more lie beyond it)."""
    return {
        "data": [out(item) for item in items],
        "iterator": id_of(items[-1]) if items else None,
        "prevIterator": f"-{id_of(items[0])}" if items else None,
        "done": not more,
    }
