"""Operator keys: named keys with the admin token's rights, stored as SHA-256 hashes (the token
itself is shown once, when it is made, and never stored)."""

from __future__ import annotations

from hookline.domain.models import OperatorKey
from hookline.store import rows
from hookline.store.dialect import Dialect
from hookline.store.statements.operators import OperatorSql


class OperatorRepository:
    """Operator keys made, found by hash, listed and revoked."""

    def __init__(self, dialect: Dialect) -> None:
        self._d = dialect
        self._sql = dialect.prepare(OperatorSql())

    async def create_operator_key(self, key: OperatorKey) -> None:
        k = key
        await self._d.write(self._sql.create, k.id, k.name, k.prefix, k.key_hash, k.created_at)

    async def find_operator_key(self, key_hash: str) -> OperatorKey | None:
        """The unrevoked key with this hash, or None (one lookup by a unique index)."""
        row = await self._d.fetchrow(self._sql.by_hash, key_hash)
        return None if row is None else rows.operator_key(row)

    async def list_operator_keys(self) -> list[OperatorKey]:
        """Every key, revoked ones included, oldest first."""
        return [rows.operator_key(r) for r in await self._d.fetch(self._sql.listing)]

    async def revoke_operator_key(self, key_id: str, now: float) -> bool:
        """Revoke a live key; False when there is none with this id (or it was revoked)."""
        return await self._d.write(self._sql.revoke, key_id, now) == 1
