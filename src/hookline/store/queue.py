"""The delivery queue in SQL, shared by SQLite and PostgreSQL: claiming due deliveries under a
lease, recording attempt results in batches, giving deliveries back, and purging finished work.

A claim leases at most each webhook's room (the worker's per-webhook hold cap, less what it
holds) of the oldest due, unleased deliveries, in one statement that returns the claimed rows;
their events and webhooks are read once each per claim. Results are written in one transaction
per batch. The dialect supplies the row lock of the claim and list parameters (``SqlPrimitives``).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, cast

from hookline.domain.ids import new_id
from hookline.domain.models import AttemptOutcome, Claimed, Delivery, DeliveryStatus, Event, Webhook
from hookline.store import rows
from hookline.store.base import Expired, QueueStats
from hookline.store.held import EXPIRED, HOLD
from hookline.store.rows import dumps
from hookline.store.tx import Tx
from hookline.store.windows import SqlWindowOps

__all__ = ["SqlQueueOps", "finish_params"]

_INSERT_ATTEMPT = (
    f"INSERT INTO attempts ({', '.join(rows.ATTEMPT_COLUMNS)})"
    f" SELECT {', '.join(f'${i}' for i in range(1, len(rows.ATTEMPT_COLUMNS) + 1))}"
    # Not for a delivery deleted (with its webhook) while the attempt was in flight. (The last
    # parameter is the delivery id again: PostgreSQL would deduce two types for one.)
    f" WHERE EXISTS (SELECT 1 FROM deliveries WHERE id = ${len(rows.ATTEMPT_COLUMNS) + 1})"
)
_FINISH_DELIVERY = (
    "UPDATE deliveries SET status = $2, attempts = attempts + 1, next_attempt_at = $3,"
    " lease_until = 0, leased_by = NULL, last_status = $4, last_error = $5, updated_at = $6"
    # A late result from an expired lease must not undo a success recorded since.
    " WHERE id = $1 AND status <> 'succeeded'"
)


class SqlQueueOps(SqlWindowOps):
    _webhook: rows.WebhookDecoder

    @abstractmethod
    async def _disable_in_tx(self, tx: Tx, webhook_id: str, reason: str, now: float) -> None:
        """Inside a transaction: disable a webhook (an endpoint answered 410 Gone)."""

    async def claim(
        self,
        worker_id: str,
        *,
        limit: int,
        lease_seconds: float,
        exclude: Sequence[str],
        now: float,
        rooms: Mapping[str, int] | None = None,
        default_room: int | None = None,
    ) -> list[Claimed]:
        # The first ``limit`` due rows are the candidates (locked, skipping rows other workers
        # are claiming); of each webhook's candidates only the oldest ``room`` are leased. The
        # others stay unleased: no write, no give-back, and they are free again at commit.
        sql = (
            "WITH c AS (SELECT d.id, d.webhook_id, d.next_attempt_at FROM deliveries d"
            " WHERE d.status = 'pending' AND d.next_attempt_at <= $1"
            f" AND d.lease_until < $1 AND d.webhook_id {self._not_in(5)}"
            " AND (d.ordered = 0 OR NOT EXISTS (SELECT 1 FROM deliveries p"
            "  WHERE p.webhook_id = d.webhook_id AND p.status = 'pending' AND p.id < d.id))"
            f" ORDER BY d.next_attempt_at LIMIT $2{self._LOCK_CLAUSE}),"
            " r AS (SELECT c.id, c.webhook_id, ROW_NUMBER() OVER"
            "  (PARTITION BY c.webhook_id ORDER BY c.next_attempt_at, c.id) AS n FROM c)"
            " UPDATE deliveries SET lease_until = $1 + $3, leased_by = $4 WHERE id IN"
            f" (SELECT r.id FROM r WHERE r.n <= COALESCE({self._room_of(6, 'r.webhook_id')}, $7))"
            f" RETURNING {_CLAIMED_COLUMNS}"
        )
        room_params = (dumps(dict(rooms or {})), limit if default_room is None else default_room)
        async with self._tx(durable=False, custom_plans=True) as tx:
            # A disabled webhook's deliveries wait for it to be enabled again. Held ones lie
            # beyond the due range (store.held); the few that are not (a retry of a request in
            # flight when it was disabled) are left out by id. By id, not by joining webhooks:
            # that keeps the plan on the due index whatever the planner believes about the
            # webhooks table (a join read every delivery when unanalyzed).
            disabled = await tx.fetch("SELECT id FROM webhooks WHERE enabled = 0")
            skip = [*exclude, *(r["id"] for r in disabled)]
            claimed = await tx.fetch(
                sql, now, limit, lease_seconds, worker_id, self._list(skip), *room_params
            )
            if not claimed:
                return []
            # The claimed rows come back from the update itself, read by position (name look-ups
            # in sqlite3.Row scan every column; both drivers' rows index by position). RETURNING
            # has no set order: sorted by id, as the deliveries were made.
            found = sorted(cast("list[Sequence[Any]]", claimed), key=_row_id)
            events = await self._claimed_events(tx, sorted({r[_C_EVENT] for r in found}))
            windows = [r[_C_ID] for r in found if r[_C_BATCH]]
            batches = await self._window_events(tx, windows)
            hooks = await self._claimed_webhooks(tx, sorted({r[_C_WEBHOOK] for r in found}))
        return [
            _claimed(r, events[r[_C_EVENT]], hooks[r[_C_WEBHOOK]], batches.get(r[_C_ID], ()))
            for r in found
            if r[_C_WEBHOOK] in hooks and r[_C_EVENT] in events
        ]

    async def _claimed_events(self, tx: Tx, ids: Sequence[str]) -> dict[str, Event]:
        """Each distinct event of a claim once: a fan-out's deliveries share one event (and one
        copy of its body)."""
        sql = f"SELECT {_EVENT_COLUMNS} FROM events WHERE id {self._in(1)}"
        found = cast("list[Sequence[Any]]", await tx.fetch(sql, self._list(ids)))
        return {r[0]: Event(*r) for r in found}

    async def _claimed_webhooks(self, tx: Tx, ids: Sequence[str]) -> dict[str, Webhook]:
        """Each distinct webhook of a claim once (the decoder caches its stored version)."""
        sql = f"SELECT {rows.WEBHOOK_COLUMNS} FROM webhooks WHERE id {self._in(1)}"
        return {r["id"]: self._webhook(r) for r in await tx.fetch(sql, self._list(ids))}

    async def record(self, outcomes: Sequence[AttemptOutcome], now: float) -> None:
        if not outcomes:
            return
        async with self._tx(durable=False) as tx:
            await self._store_results(tx, outcomes, now)
            for o in outcomes:
                if o.disable_webhook:
                    await self._disable_in_tx(tx, o.attempt.webhook_id, o.disable_webhook, now)

    async def _store_results(self, tx: Tx, outcomes: Sequence[AttemptOutcome], now: float) -> None:
        """Inside ``record``'s transaction: insert the attempts and finish their deliveries."""
        await tx.executemany(
            _INSERT_ATTEMPT,
            [(*rows.attempt_params(o.attempt), o.attempt.delivery_id) for o in outcomes],
        )
        await tx.executemany(_FINISH_DELIVERY, [finish_params(o, now) for o in outcomes])

    async def release(self, delivery_ids: Sequence[str], *, not_before: float) -> None:
        if not delivery_ids:
            return
        async with self._tx(durable=False) as tx:
            await tx.execute(
                "UPDATE deliveries SET lease_until = 0, leased_by = NULL, next_attempt_at = $2"
                f" WHERE id {self._in(1)} AND status = 'pending'",
                self._list(delivery_ids),
                not_before,
            )

    async def next_due_at(self) -> float | None:
        sql = (
            "SELECT MIN(next_attempt_at) AS t FROM deliveries"
            f" WHERE status = 'pending' AND next_attempt_at < {HOLD}"
        )
        row = await self._fetchrow(sql)
        return None if row is None or row["t"] is None else float(row["t"])

    async def purge(self, before: float, *, batch: int = 1000) -> int:
        # Id ranges ride the primary keys (ids sort by time), one short transaction per batch.
        removed = 0
        async with self._tx() as tx:
            found = await tx.fetch(
                "SELECT id FROM deliveries WHERE id < $1 AND status <> 'pending' LIMIT $2",
                _id_before("dlv", before),
                batch,
            )
            ids = self._list([r["id"] for r in found])
            if found:
                await tx.execute(f"DELETE FROM attempts WHERE delivery_id {self._in(1)}", ids)
                await tx.execute(
                    f"DELETE FROM delivery_events WHERE delivery_id {self._in(1)}", ids
                )
                await tx.execute(f"DELETE FROM deliveries WHERE id {self._in(1)}", ids)
                removed += len(found)
        async with self._tx() as tx:
            stale = await tx.fetch(
                "SELECT id FROM events e WHERE id < $1"
                " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)"
                " AND NOT EXISTS (SELECT 1 FROM delivery_events de WHERE de.event_id = e.id)"
                " LIMIT $2",
                _id_before("evt", before),
                batch,
            )
            if stale:
                events = self._list([r["id"] for r in stale])
                await tx.execute(f"DELETE FROM events WHERE id {self._in(1)}", events)
                removed += len(stale)
        return removed

    async def expire_held(
        self, webhook_id: str, before: float, now: float, *, batch: int = 1000
    ) -> Expired:
        async with self._tx() as tx:
            # Under the row lock that orders this with enabling the webhook: an enabled
            # webhook's deliveries are never expired.
            sql = f"SELECT enabled FROM webhooks WHERE id = $1{self._ROW_LOCK}"
            hook = await tx.fetchrow(sql, webhook_id)
            if hook is None or hook["enabled"]:
                return Expired()
            found = await tx.fetch(
                "SELECT d.id, e.type FROM deliveries d JOIN events e ON e.id = d.event_id"
                " WHERE d.webhook_id = $1 AND d.created_at < $2 AND d.status = 'pending'"
                " AND d.lease_until < $3 LIMIT $4",
                webhook_id, before, now, batch,
            )  # fmt: skip
            if not found:
                return Expired()
            await tx.execute(
                "UPDATE deliveries SET status = 'failed', last_error = $2, next_attempt_at = $3,"
                f" lease_until = 0, leased_by = NULL, updated_at = $3 WHERE id {self._in(1)}"
                " AND status = 'pending'",
                self._list([r["id"] for r in found]), EXPIRED, now,
            )  # fmt: skip
        return Expired(len(found), frozenset(r["type"] for r in found))

    async def queue_stats(self, now: float) -> QueueStats:
        sql = (
            "SELECT COUNT(*) AS n,"
            f" MIN(CASE WHEN next_attempt_at < {HOLD} THEN next_attempt_at END) AS t"
            " FROM deliveries WHERE status = 'pending'"
        )
        row = await self._fetchrow(sql)
        if row is None:
            return QueueStats(0, None)
        return QueueStats(int(row["n"]), None if row["t"] is None else float(row["t"]))


def _id_before(prefix: str, ts: float) -> str:
    """The smallest id of that prefix made at ``ts``: ids sort by creation time (ULIDs)."""
    return new_id(prefix, at=ts, floor=True)


_CLAIMED_COLUMNS = (
    "id, workspace_id, event_id, webhook_id, status, attempts, retry_base, next_attempt_at,"
    " last_status, last_error, created_at, updated_at, batch_size"
)
_C_ID, _C_EVENT, _C_WEBHOOK, _C_BATCH = 0, 2, 3, 12
_EVENT_COLUMNS = ", ".join(rows.EVENT_COLUMNS)


#: ``DeliveryStatus(value)`` goes through the enum's Python-level ``__call__`` and ``__new__``.
_STATUSES = {s.value: s for s in DeliveryStatus}


def _row_id(row: Sequence[Any]) -> Any:
    return row[_C_ID]


def _claimed(r: Sequence[Any], event: Event, webhook: Webhook, batch: Sequence[Event]) -> Claimed:
    """A claimed delivery from a row of ``_CLAIMED_COLUMNS`` (by position)."""
    delivery = Delivery(
        id=r[0], workspace_id=r[1], event_id=r[2], webhook_id=r[3],
        status=_STATUSES[r[4]], attempts=r[5], retry_base=r[6], next_attempt_at=r[7],
        last_status=r[8], last_error=r[9], created_at=r[10], updated_at=r[11],
    )  # fmt: skip
    return Claimed(delivery, event, webhook, batch=tuple(batch))


def finish_params(o: AttemptOutcome, now: float) -> tuple[Any, ...]:
    """A finished attempt's delivery update: id, status, next attempt, last status and error,
    time."""
    a = o.attempt
    error = a.error_message if a.error_class else None
    return (a.delivery_id, o.status.value, o.next_attempt_at, a.response_status, error, now)
