"""The delivery queue: claiming due deliveries under a lease, recording attempt results in
batches, giving deliveries back, and what is due; expiring a disabled webhook's held work.

A claim leases at most each webhook's room (the worker's per-webhook hold cap, less what it
holds) of the oldest due, unleased deliveries, in one statement that returns the claimed rows;
their events and webhooks are read once each per claim. Results are written in one transaction
per batch.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any

from hookline.domain.ids import id_time, new_id
from hookline.domain.models import AttemptOutcome, Claimed, Delivery, DeliveryStatus, Event, Webhook
from hookline.store import rows
from hookline.store.dialect import Dialect
from hookline.store.held import EXPIRED
from hookline.store.records import Expired, QueueStats
from hookline.store.rows import dumps
from hookline.store.statements.queue import ClaimedRow, QueueSql
from hookline.store.tx import Tx
from hookline.store.windows import Windows

__all__ = ["QueueRepository", "finish_params"]

#: Inside a transaction: disable a webhook (an endpoint answered 410 Gone), with its reason.
Disable = Callable[[Tx, str, str, float], Awaitable[object]]
#: ``DeliveryStatus(value)`` goes through the enum's Python-level ``__call__`` and ``__new__``.
_STATUSES = {s.value: s for s in DeliveryStatus}
#: A returned row as a ``ClaimedRow`` (its columns are the record's, in order), in C: no
#: Python frame per claimed row, as ``ClaimedRow._make`` would cost.
_claimed_row = partial(tuple.__new__, ClaimedRow)
#: Seconds a worker's bound on the oldest pending delivery is used before it is read again.
FLOOR_SECONDS = 1.0
#: How far past its own clock a claim looks for deliveries: a machine whose clock is ahead of
#: this one's by up to this makes ids up to this far in this one's future.
CEILING_SECONDS = 300.0


class QueueRepository:
    """Claims, results, give-backs and the queue's figures."""

    def __init__(
        self, dialect: Dialect, webhooks: rows.WebhookDecoder, windows: Windows, disable: Disable
    ) -> None:
        self._d = dialect
        self._sql = dialect.prepare(QueueSql())
        self._webhook = webhooks
        self._windows = windows
        self._disable = disable
        #: Read each claimed event's ``traceparent`` too (a process that exports traces sets
        #: it; otherwise a claim reads exactly the columns it did before traces existed).
        self.reads_traceparent = False
        self._floor = (-FLOOR_SECONDS, "")

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
        """Lease up to ``limit`` due deliveries, oldest first.

        Skips webhooks in ``exclude`` (saturated in this worker) and, for FIFO webhooks, every
        delivery but the oldest pending one. A lease that expires makes the row claimable again.

        Per-webhook room: of the ``limit`` oldest due deliveries, at most ``rooms[webhook_id]``
        (``default_room`` for webhooks not in ``rooms``; no limit when None) of each webhook are
        leased, its oldest. The rest are left as they were, unleased.
        """
        sql, lists = self._sql, self._d.list_param
        room_params = (dumps(dict(rooms or {})), limit if default_room is None else default_room)
        async with self._d.tx(durable=False, custom_plans=True, index_order=True) as tx:
            # A disabled webhook's deliveries wait for it to be enabled again. Held ones lie
            # beyond the due range (store.held); the few that are not (a retry of a request in
            # flight when it was disabled) the claim leaves out by id.
            floor = await self._pending_floor(tx)
            # PostgreSQL: bounded above too. Planned for both bounds (a claim is planned afresh
            # each time), it reads today's partition, not also the ones made days ahead
            # (planning it over four partitions took 1.2-1.6 ms of the database's CPU; over
            # one, 0.5 ms). SQLite has no partitions, and its planner would take the bounded
            # id range for the better index: it is not bounded there (see ``Dialect``).
            ceiling = (
                (new_id("dlv", at=now + CEILING_SECONDS, floor=True),) if self._d.ID_CEILING else ()
            )
            returned = await tx.fetch(
                sql.claim,
                now,
                limit,
                lease_seconds,
                worker_id,
                lists(exclude),
                *room_params,
                floor,
                *ceiling,
            )
            if not returned:
                return []
            # RETURNING has no set order: sorted by id, as the deliveries were made.
            found: list[ClaimedRow] = sorted(map(_claimed_row, returned))
            events = await self._events(tx, sorted({r.event_id for r in found}))
            batches = await self._windows.events(tx, [r.id for r in found if r.batch_size])
            hooks = await self._webhooks(tx, sorted({r.webhook_id for r in found}))
        return [
            _claimed(r, events[r.event_id], hooks[r.webhook_id], batches.get(r.id, ()))
            for r in found
            if r.webhook_id in hooks and r.event_id in events
        ]

    async def _pending_floor(self, tx: Tx) -> str:
        """An id no pending delivery is below: a minute before the oldest pending one (a clock
        of another machine a little behind cannot queue one under it), read again once it is
        ``FLOOR_SECONDS`` old. A delivery made pending again by hand below a floor still in use
        (a retry of an old one) is claimed once the floor is read again. ``''`` (no bound)
        when nothing is pending."""
        read_at, floor = self._floor
        clock = time.monotonic()
        if clock - read_at < FLOOR_SECONDS:
            return floor
        row = await tx.fetchrow(self._sql.pending_floor)
        oldest = None if row is None else row["id"]
        floor = "" if oldest is None else new_id("dlv", at=id_time(oldest) - 60, floor=True)
        self._floor = (clock, floor)
        return floor

    async def _events(self, tx: Tx, ids: Sequence[str]) -> dict[str, Event]:
        """Each distinct event of a claim once: a fan-out's deliveries share one event (and one
        copy of its body). Its columns are in the order of ``Event``'s fields; a worker needs
        neither channels nor tags (they chose the deliveries), so the claim does not read them."""
        if self.reads_traceparent:
            return await self._traced_events(tx, ids)
        found: Sequence[Any] = await tx.fetch(self._sql.claimed_events, self._d.list_param(ids))
        return {r[0]: Event(*r) for r in found}

    async def _traced_events(self, tx: Tx, ids: Sequence[str]) -> dict[str, Event]:
        """``_events`` with the trace context of each event's publish."""
        found: Sequence[Any] = await tx.fetch(
            self._sql.claimed_traced_events, self._d.list_param(ids)
        )
        return {r[0]: Event(r[0], r[1], r[2], r[3], r[4], r[5], traceparent=r[6]) for r in found}

    async def _webhooks(self, tx: Tx, ids: Sequence[str]) -> dict[str, Webhook]:
        """Each distinct webhook of a claim once (the decoder caches its stored version)."""
        found = await tx.fetch(self._sql.claimed_webhooks, self._d.list_param(ids))
        return {r["id"]: self._webhook(r) for r in found}

    async def record(self, outcomes: Sequence[AttemptOutcome], now: float) -> None:
        """Store attempts and the deliveries' new states in one transaction, ending leases."""
        if not outcomes:
            return
        # Custom plans: joined to the batch's ids, ``deliveries`` is read by primary key
        # whatever its size was when the statements were first prepared (see the claim).
        async with self._d.tx(durable=False, custom_plans=True) as tx:
            if not await self._d.record_results(tx, outcomes, now):
                await tx.executemany(
                    self._sql.insert_attempt,
                    [(*rows.attempt_params(o.attempt), o.attempt.delivery_id) for o in outcomes],
                )
                await tx.executemany(
                    self._sql.finish_delivery, [finish_params(o, now) for o in outcomes]
                )
            for o in outcomes:
                if o.disable_webhook:
                    await self._disable(tx, o.attempt.webhook_id, o.disable_webhook, now)

    async def release(self, delivery_ids: Sequence[str], *, not_before: float) -> None:
        """Give leased deliveries back unattempted, due again at ``not_before``."""
        if not delivery_ids:
            return
        async with self._d.tx(durable=False) as tx:
            await tx.execute(self._sql.release, self._d.list_param(delivery_ids), not_before)

    async def next_due_at(self) -> float | None:
        row = await self._d.fetchrow(self._sql.next_due_at)
        return None if row is None or row["t"] is None else float(row["t"])

    async def queue_stats(self, now: float) -> QueueStats:
        """Pending deliveries (held ones included) and the oldest due time of those not held."""
        row = await self._d.fetchrow(self._sql.queue_stats)
        if row is None:
            return QueueStats(0, None)
        return QueueStats(int(row["n"]), None if row["t"] is None else float(row["t"]))

    async def expire_held(
        self, webhook_id: str, before: float, now: float, *, batch: int = 1000
    ) -> Expired:
        """Fail one batch of the pending deliveries of a disabled webhook created before
        ``before`` (``last_error``: "expired while the webhook was disabled"); nothing if the
        webhook is enabled (or gone). Deliveries in flight are left to their attempt."""
        sql = self._sql
        async with self._d.tx() as tx:
            # Under the row lock that orders this with enabling the webhook: an enabled
            # webhook's deliveries are never expired.
            hook = await tx.fetchrow(sql.webhook_enabled, webhook_id)
            if hook is None or hook["enabled"]:
                return Expired()
            found = await tx.fetch(sql.expiring, webhook_id, before, now, batch)
            if not found:
                return Expired()
            ids = self._d.list_param([r["id"] for r in found])
            await tx.execute(sql.expire, ids, EXPIRED, now)
        return Expired(len(found), frozenset(r["type"] for r in found))


def _claimed(r: ClaimedRow, event: Event, webhook: Webhook, batch: Sequence[Event]) -> Claimed:
    delivery = Delivery(
        id=r.id, workspace_id=r.workspace_id, event_id=r.event_id, webhook_id=r.webhook_id,
        status=_STATUSES[r.status], attempts=r.attempts, retry_base=r.retry_base,
        next_attempt_at=r.next_attempt_at, last_status=r.last_status, last_error=r.last_error,
        created_at=r.created_at, updated_at=r.updated_at,
    )  # fmt: skip
    return Claimed(delivery, event, webhook, batch=tuple(batch))


def finish_params(o: AttemptOutcome, now: float) -> tuple[Any, ...]:
    """A finished attempt's delivery update: id, status, next attempt, last status and error,
    time."""
    a = o.attempt
    error = a.error_message if a.error_class else None
    return (a.delivery_id, o.status.value, o.next_attempt_at, a.response_status, error, now)
