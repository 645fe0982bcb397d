"""Deleting a workspace and everything it owns, on both databases.

A workspace's queue and history can be millions of rows; deleting them in one transaction
would hold SQLite's single writer (every publish of every workspace) for as long as that takes.
So its deliveries (each with its attempts and window links) and then its events are deleted in
batches of ``batch`` rows, a transaction each, while the workspace still exists; then one
transaction deletes whatever is left (what arrived meanwhile, and everything else: webhooks,
flows, its own event types, entities, bins with their captures and usage, API keys) and the
workspace row, last. A deletion interrupted before that final transaction leaves the workspace
in place, without part of its history: deleting it again finishes the work.

Everything else the database holds is left alone: other workspaces, the shared event-type
catalog (stored under workspace ``''``, never a workspace's id), operator keys, meta entries.
"""

from __future__ import annotations

from hookline.store.dialect import Dialect
from hookline.store.rows import rowcount
from hookline.store.statements.removal import RemovalSql

#: Rows per transaction of the batched part (deliveries, events).
BATCH = 2000


class RemovalRepository:
    """What deleting a workspace needs: its pending deliveries counted, then its rows deleted."""

    def __init__(self, dialect: Dialect) -> None:
        self._d = dialect
        sql = self._sql = dialect.prepare(RemovalSql())
        self._clear = tuple(
            statement
            for name, statement in zip(sql._fields, sql, strict=True)
            if name.startswith("clear_")
        )

    async def pending_deliveries(self, workspace_id: str) -> int:
        """Its deliveries not yet finished: due, retrying, held (a disabled webhook's) or
        leased by a worker right now."""
        row = await self._d.fetchrow(self._sql.pending, workspace_id)
        return 0 if row is None else int(row["n"])

    async def delete_workspace(self, workspace_id: str, *, batch: int = BATCH) -> bool:
        """Delete the workspace and every row it owns (see the module's text); whether it
        existed. Pending deliveries go too: a worker's result for one of them is dropped when
        it is recorded (``store.queue.record`` writes nothing for a delivery that is gone)."""
        if not workspace_id:
            raise ValueError("'' is the shared event-type catalog, not a workspace")
        sql = self._sql
        await self._in_batches(
            workspace_id, sql.delivery_batch, (sql.attempts_of, sql.links_of, sql.deliveries), batch
        )
        await self._in_batches(workspace_id, sql.event_batch, (sql.events,), batch)
        async with self._d.tx() as tx:
            for statement in self._clear:
                await tx.execute(statement, workspace_id)
            return rowcount(await tx.execute(sql.workspace, workspace_id)) == 1

    async def _in_batches(
        self, workspace_id: str, select: str, deletes: tuple[str, ...], batch: int
    ) -> None:
        """Select up to ``batch`` ids and run ``deletes`` on them, a transaction at a time,
        until a batch comes back short."""
        while True:
            async with self._d.tx() as tx:
                found = [row["id"] for row in await tx.fetch(select, workspace_id, batch)]
                if found:
                    ids = self._d.list_param(found)
                    for statement in deletes:
                        await tx.execute(statement, ids)
            if len(found) < batch:
                return
