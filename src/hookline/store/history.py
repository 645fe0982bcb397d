"""What was published and delivered, read back in SQL (events, deliveries, their attempts), and
deliveries sent again (retrying one, replaying a webhook's: held while the webhook is disabled)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from hookline.domain.models import Attempt, Delivery, DeliveryStatus, Event, Page
from hookline.store import rows
from hookline.store.base import DeliveryQuery
from hookline.store.held import held
from hookline.store.tx import SqlPrimitives, Tx


class SqlHistoryOps(SqlPrimitives):
    _ROW_LOCK = ""  # the dialect's clause that locks the rows a SELECT reads, if it has one

    @abstractmethod
    async def _after_enqueue(self, tx: Tx) -> None:
        """Inside the enqueuing transaction: tell workers there is work."""

    @abstractmethod
    def notify_local(self) -> None: ...

    async def get_event(self, workspace_id: str, event_id: str) -> Event | None:
        sql = "SELECT * FROM events WHERE workspace_id = $1 AND id = $2"
        row = await self._fetchrow(sql, workspace_id, event_id)
        return None if row is None else rows.event(row)

    async def list_events(
        self, workspace_id: str, *, limit: int, cursor: str | None = None, type: str | None = None
    ) -> Page:
        where, args = ["workspace_id = $1"], [workspace_id]
        if cursor:
            args.append(cursor)
            where.append(f"id < ${len(args)}")
        if type:
            args.append(type)
            where.append(f"type = ${len(args)}")
        sql = (
            f"SELECT * FROM events WHERE {' AND '.join(where)}"
            f" ORDER BY id DESC LIMIT {int(limit) + 1}"
        )
        return rows.page([rows.event(r) for r in await self._fetch(sql, *args)], limit)

    async def get_delivery(self, workspace_id: str, delivery_id: str) -> Delivery | None:
        sql = "SELECT * FROM deliveries WHERE workspace_id = $1 AND id = $2"
        row = await self._fetchrow(sql, workspace_id, delivery_id)
        return None if row is None else rows.delivery(row)

    async def list_deliveries(self, workspace_id: str, query: DeliveryQuery) -> Page:
        q = query
        where, args = ["workspace_id = $1"], list[Any]([workspace_id])
        for clause, value in (
            ("id < ${}", q.cursor),
            ("webhook_id = ${}", q.webhook_id),
            ("event_id = ${}", q.event_id),
            ("status = ${}", None if q.status is None else q.status.value),
            ("created_at >= ${}", q.since),
            ("created_at < ${}", q.until),
        ):
            if value is not None:
                args.append(value)
                where.append(clause.format(len(args)))
        sql = (
            f"SELECT * FROM deliveries WHERE {' AND '.join(where)}"
            f" ORDER BY id DESC LIMIT {int(q.limit) + 1}"
        )
        return rows.page([rows.delivery(r) for r in await self._fetch(sql, *args)], q.limit)

    async def list_attempts(self, workspace_id: str, delivery_id: str) -> list[Attempt]:
        # An attempt that sent its event's body unchanged keeps no copy: the event has it (and
        # outlives the attempt: events are purged only once no delivery refers to them).
        sql = (
            "SELECT a.*, CASE WHEN a.request_body_is_event = 1 THEN e.body END AS event_body"
            " FROM attempts a LEFT JOIN deliveries d ON d.id = a.delivery_id"
            " LEFT JOIN events e ON e.id = d.event_id"
            " WHERE a.workspace_id = $1 AND a.delivery_id = $2 ORDER BY a.number"
        )
        return [rows.attempt(r) for r in await self._fetch(sql, workspace_id, delivery_id)]

    async def retry_delivery(self, workspace_id: str, delivery_id: str, now: float) -> bool:
        async with self._tx() as tx:
            found = await tx.fetchrow(
                "SELECT webhook_id FROM deliveries WHERE workspace_id = $1 AND id = $2",
                workspace_id,
                delivery_id,
            )
            if found is None:
                return False
            due = await self._due_for(tx, found["webhook_id"], now)
            n = await tx.execute(
                "UPDATE deliveries SET status = 'pending', retry_base = attempts,"
                " next_attempt_at = $4, lease_until = 0, updated_at = $3"
                " WHERE workspace_id = $1 AND id = $2 AND lease_until < $3",
                workspace_id, delivery_id, now, due,
            )  # fmt: skip
            if rows.rowcount(n) == 1:
                await self._after_enqueue(tx)
        self.notify_local()
        return rows.rowcount(n) == 1

    async def _due_for(self, tx: Tx, webhook_id: str, now: float) -> float:
        """When a delivery sent again is due: now, or held if its webhook is disabled (read
        under the row lock that orders this with enabling the webhook; see store.held)."""
        sql = f"SELECT enabled FROM webhooks WHERE id = $1{self._ROW_LOCK}"
        row = await tx.fetchrow(sql, webhook_id)
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
        async with self._tx() as tx:
            due = await self._due_for(tx, webhook_id, now)
            n = rows.rowcount(
                await tx.execute(
                    "UPDATE deliveries SET status = 'pending', retry_base = attempts,"
                    " next_attempt_at = $7, lease_until = 0, updated_at = $5"
                    " WHERE workspace_id = $1 AND webhook_id = $2 AND created_at >= $3"
                    f" AND created_at < $4 AND lease_until < $5 AND status {self._in(6)}",
                    workspace_id,
                    webhook_id,
                    since,
                    until,
                    now,
                    self._list([s.value for s in statuses]),
                    due,
                )
            )
            if n:
                await self._after_enqueue(tx)
        self.notify_local()
        return n
