"""Inspector storage: capture bins and the requests they received (SQL, every dialect)."""

from __future__ import annotations

from abc import ABC

from hookline.store.tx import SqlPrimitives


class BinStore(ABC):  # noqa: B024 - the inspector's domain operations are added here
    """Domain operations of the inspector."""


class SqlBinOps(SqlPrimitives, BinStore):
    """The inspector's operations in SQL."""
