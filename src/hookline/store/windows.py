"""Queueing a stored event: its deliveries, and the aggregation windows it joins.

An open window is a pending delivery that has not been attempted and is not yet due; events
join it in arrival order until it closes (when it falls due, or early at ``max_events``).
Because a window is an ordinary committed delivery with its events linked to it, it survives a
restart and is sent exactly as any delivery: once, when due.

A collaborator of the publishing and entity repositories (and of the claim, which reads a
window's events), written against the dialect like them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

import orjson

from hookline.domain.models import Delivery, DeliveryStatus, Event
from hookline.domain.publication import new_delivery
from hookline.store import rows
from hookline.store.dialect import Dialect
from hookline.store.held import held
from hookline.store.items import PublishItem, WindowSpec
from hookline.store.statements.publishing import WindowSql
from hookline.store.tx import Tx

__all__ = ["WindowSpec", "Windows"]

_NO_LIMIT = 2**31 - 1


class Windows:
    """Queues stored events inside the caller's transaction (see the module's text)."""

    def __init__(self, dialect: Dialect) -> None:
        self._d = dialect
        self._sql = dialect.prepare(WindowSql())

    async def enqueue(self, tx: Tx, items: Sequence[PublishItem]) -> list[list[Delivery]]:
        """Queue stored events, in order: every event's deliveries in one multi-row insert, then
        each event into its aggregation windows. Per item: its deliveries, then its windows'."""
        unknown = {d.webhook_id for item in items if item.fifo is None for d in item.deliveries}
        looked_up = await self._fifo_webhooks(tx, unknown) if unknown else frozenset[str]()
        disabled = await self._lock_webhooks(tx, items)
        params = [
            rows.delivery_params(
                _stored(d, disabled),
                d.webhook_id in (looked_up if it.fifo is None else it.fifo),
            )
            for it in items
            for d in it.deliveries
        ]
        await self._d.insert_many(tx, "deliveries", rows.DELIVERY_COLUMNS, params)
        queued = []
        for item in items:
            event = item.event
            collected = await self._collect(tx, event, item.windows, event.created_at, disabled)
            queued.append([*item.deliveries, *collected])
        if any(queued):
            await self._d.after_enqueue(tx)
        return queued

    async def _lock_webhooks(self, tx: Tx, items: Sequence[PublishItem]) -> frozenset[str]:
        """Those of the items' webhooks that are disabled (what they queue is held), read under
        the row locks that serialise this transaction with enabling them and with other
        publishes to the same windows; the items name the webhooks to check (``held``).

        The locks serialise concurrent publishes to one webhook so that they share one window
        (a SQLite write transaction excludes every other already), and make a webhook enabled
        meanwhile either be seen enabled here or release, once this commits, what is held here.
        All of the transaction's locks are taken up front and in id order: two transactions
        never wait for each other's locks in a cycle.
        """
        check: set[str] = set()
        for item in items:
            if item.held is None:
                check.update(d.webhook_id for d in item.deliveries)
                check.update(spec.webhook_id for spec in item.windows)
            else:
                check.update(item.held)
        windowed = set()
        if self._d.ROW_LOCK:
            windowed = {spec.webhook_id for item in items for spec in item.windows}
        if not check and not windowed:
            return frozenset()
        # Of the webhooks only checked, just the disabled ones are locked: publishes to
        # enabled webhooks do not wait for each other.
        found = await tx.fetch(
            self._sql.lock_webhooks,
            self._d.list_param(sorted(windowed)),
            self._d.list_param(sorted(check)),
        )
        return frozenset(r["id"] for r in found if not r["enabled"])

    async def _fifo_webhooks(self, tx: Tx, webhook_ids: Collection[str]) -> frozenset[str]:
        """Those of the webhooks that deliver in FIFO order, read from their stored configs."""
        found = await tx.fetch(self._sql.fifo_configs, self._d.list_param(sorted(webhook_ids)))
        return frozenset(
            r["id"] for r in found if orjson.loads(r["config"]).get("ordering") == "fifo"
        )

    async def _collect(
        self,
        tx: Tx,
        event: Event,
        windows: Sequence[WindowSpec],
        now: float,
        disabled: Collection[str] = (),
    ) -> list[Delivery]:
        """Add the event to each webhook's open window, opening one where none is open (the
        caller holds the webhooks' row locks); a window opened for a webhook of ``disabled``
        is held."""
        sql, collected = self._sql, []
        for spec in windows:
            row = await tx.fetchrow(sql.open_window, spec.webhook_id, now)
            if row is not None:
                limit = spec.max_events or _NO_LIMIT
                await tx.execute(sql.join_window, row["id"], now, limit)
                await tx.execute(sql.link_event, row["id"], row["batch_size"], event.id)
                collected.append(rows.delivery(row))
                continue
            due = now if spec.max_events == 1 else now + spec.seconds
            window = new_delivery(event, spec.webhook_id, now, due=due)
            stored = held(due) if spec.webhook_id in disabled else due
            ws, hook = event.workspace_id, spec.webhook_id
            await tx.execute(sql.insert_window, window.id, ws, event.id, hook, stored, now)
            await tx.execute(sql.link_event, window.id, 0, event.id)
            collected.append(window)
        return collected

    async def events(self, tx: Tx, delivery_ids: Sequence[str]) -> dict[str, list[Event]]:
        """The events collected by each of these windows, in the order they joined."""
        if not delivery_ids:
            return {}
        found: dict[str, list[Event]] = {}
        for row in await tx.fetch(self._sql.window_events, self._d.list_param(delivery_ids)):
            found.setdefault(row["delivery_id"], []).append(rows.event(row))
        return found


def _stored(delivery: Delivery, disabled: Collection[str]) -> Delivery:
    """The delivery as it is inserted: held if it is to be sent to a disabled webhook."""
    if delivery.webhook_id not in disabled or delivery.status is not DeliveryStatus.PENDING:
        return delivery
    return replace(delivery, next_attempt_at=held(delivery.next_attempt_at))
