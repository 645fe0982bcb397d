"""Entity-state storage for entity events (SQL, every dialect)."""

from __future__ import annotations

from abc import ABC

from hookline.store.tx import SqlPrimitives


class EntityStore(ABC):  # noqa: B024 - entity operations are added here
    """Domain operations on remembered entity state."""


class SqlEntityOps(SqlPrimitives, EntityStore):
    """Entity operations in SQL."""
