"""Idempotent requests: the first request with a key claims it, its successful answer is kept
until the key expires, and a repeat is answered with it (``hookline.api.svix.idempotency``).

A key claimed by a request that never finished (its process died) is free again after
``stale_after`` seconds.
"""

from __future__ import annotations

from hookline.store.dialect import Dialect
from hookline.store.statements.idempotency import IdempotencySql


class IdempotencyRepository:
    """Claimed keys and kept answers (see the module's text)."""

    def __init__(self, dialect: Dialect) -> None:
        self._d = dialect
        self._sql = dialect.prepare(IdempotencySql())

    async def claim(self, key: str, now: float, expires_at: float, stale_after: float) -> bool:
        """Whether this request is the first with ``key`` (or the key had expired, or was
        left running for more than ``stale_after`` seconds)."""
        args = (key, now, expires_at, now - stale_after)
        return await self._d.write(self._sql.claim, *args) == 1

    async def find(self, key: str, now: float) -> tuple[int | None, str | None] | None:
        """The kept answer (status, body), ``(None, None)`` while the first request runs, None
        when the key is free."""
        row = await self._d.fetchrow(self._sql.find, key, now)
        return None if row is None else (row["status"], row["body"])

    async def settle(self, key: str, status: int, body: str) -> None:
        await self._d.write(self._sql.settle, key, status, body)

    async def release(self, key: str) -> None:
        """Free a key whose request failed: a repeat runs it again."""
        await self._d.write(self._sql.release, key)

    async def purge(self, now: float) -> int:
        return await self._d.write(self._sql.purge, now)
