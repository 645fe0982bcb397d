"""History: what was published and delivered, read back (events, deliveries, their attempts);
deliveries sent again (retrying one, replaying a webhook's: held while the webhook is
disabled); and finished work purged once retention has passed."""

from __future__ import annotations

from collections.abc import Sequence

from hookline.domain.ids import new_id
from hookline.domain.models import Attempt, Delivery, DeliveryStatus, Event, Page
from hookline.store import rows
from hookline.store.dialect import Dialect
from hookline.store.held import held
from hookline.store.records import DeliveryQuery
from hookline.store.statements.history import DELIVERIES, EVENTS, HistorySql
from hookline.store.statements.listing import RenderedListing
from hookline.store.tx import Tx


class HistoryRepository:
    """Events, deliveries and attempts (see the module's text)."""

    def __init__(self, dialect: Dialect) -> None:
        self._d = dialect
        self._sql = dialect.prepare(HistorySql())
        self._events = RenderedListing(EVENTS, dialect)
        self._deliveries = RenderedListing(DELIVERIES, dialect)

    async def get_event(self, workspace_id: str, event_id: str) -> Event | None:
        row = await self._d.fetchrow(self._sql.event, workspace_id, event_id)
        return None if row is None else rows.event(row)

    async def list_events(
        self, workspace_id: str, *, limit: int, cursor: str | None = None, type: str | None = None
    ) -> Page:
        sql, args = self._events.query((workspace_id,), (cursor or None, type or None), limit)
        return rows.page([rows.event(r) for r in await self._d.fetch(sql, *args)], limit)

    async def get_delivery(self, workspace_id: str, delivery_id: str) -> Delivery | None:
        row = await self._d.fetchrow(self._sql.delivery, workspace_id, delivery_id)
        return None if row is None else rows.delivery(row)

    async def list_deliveries(self, workspace_id: str, query: DeliveryQuery) -> Page:
        q = query
        status = None if q.status is None else q.status.value
        filters = (q.cursor, q.webhook_id, q.event_id, status, q.since, q.until)
        sql, args = self._deliveries.query((workspace_id,), filters, q.limit)
        return rows.page([rows.delivery(r) for r in await self._d.fetch(sql, *args)], q.limit)

    async def list_attempts(self, workspace_id: str, delivery_id: str) -> list[Attempt]:
        found = await self._d.fetch(self._sql.attempts, workspace_id, delivery_id)
        return [rows.attempt(r) for r in found]

    async def retry_delivery(self, workspace_id: str, delivery_id: str, now: float) -> bool:
        """Queue a delivery again; its retry schedule starts again from the first step."""
        async with self._d.tx() as tx:
            found = await tx.fetchrow(self._sql.delivery_webhook, workspace_id, delivery_id)
            if found is None:
                return False
            due = await self._due_for(tx, found["webhook_id"], now)
            n = rows.rowcount(
                await tx.execute(self._sql.retry, workspace_id, delivery_id, now, due)
            )
            if n == 1:
                await self._d.after_enqueue(tx)
        self._d.notify_local()
        return n == 1

    async def _due_for(self, tx: Tx, webhook_id: str, now: float) -> float:
        """When a delivery sent again is due: now, or held if its webhook is disabled (read
        under the row lock that orders this with enabling the webhook; see store.held)."""
        row = await tx.fetchrow(self._sql.webhook_enabled, webhook_id)
        return held(now) if row is not None and not row["enabled"] else now

    async def replay_webhook(
        self,
        workspace_id: str,
        webhook_id: str,
        *,
        since: float,
        until: float,
        statuses: Sequence[DeliveryStatus],
        now: float,
    ) -> int:
        """Queue again every matching delivery of a webhook; returns how many."""
        wanted = self._d.list_param([s.value for s in statuses])
        async with self._d.tx() as tx:
            due = await self._due_for(tx, webhook_id, now)
            args = (workspace_id, webhook_id, since, until, now, wanted, due)
            n = rows.rowcount(await tx.execute(self._sql.replay, *args))
            if n:
                await self._d.after_enqueue(tx)
        self._d.notify_local()
        return n

    async def purge(self, before: float, *, batch: int = 1000) -> int:
        """Delete one batch of finished deliveries (with their attempts) and of events created
        before ``before`` that no pending delivery needs; returns how many rows went."""
        sql, lists = self._sql, self._d.list_param
        removed = 0
        async with self._d.tx() as tx:
            found = await tx.fetch(sql.finished, _id_before("dlv", before), batch)
            if found:
                ids = lists([r["id"] for r in found])
                for statement in (sql.delete_attempts, sql.delete_links, sql.delete_deliveries):
                    await tx.execute(statement, ids)
                removed += len(found)
        async with self._d.tx() as tx:
            stale = await tx.fetch(sql.unneeded_events, _id_before("evt", before), batch)
            if stale:
                ids = lists([r["id"] for r in stale])
                await tx.execute(sql.delete_event_keys, ids)
                await tx.execute(sql.delete_events, ids)
                removed += len(stale)
        return removed


def _id_before(prefix: str, ts: float) -> str:
    """The smallest id of that prefix made at ``ts``: ids sort by creation time (ULIDs)."""
    return new_id(prefix, at=ts, floor=True)
