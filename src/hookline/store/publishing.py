"""Publishing in SQL: a batch of events stored in one multi-row insert and their deliveries
queued in the same transaction; an idempotent repeat gets the first publish's event and
deliveries back."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

from hookline.domain.models import Delivery, Event
from hookline.errors import Conflict
from hookline.store import rows
from hookline.store.base import PublishItem, PublishResult
from hookline.store.tx import Tx
from hookline.store.windows import SqlWindowOps


class SqlPublishOps(SqlWindowOps):
    @abstractmethod
    def notify_local(self) -> None: ...

    async def publish_many(self, items: Sequence[PublishItem]) -> list[PublishResult]:
        # A key repeated within the call maps to its first occurrence, the only one inserted.
        firsts: dict[tuple[str, str], int] = {}
        repeats: dict[int, int] = {}
        for i, item in enumerate(items):
            key = item.event.idempotency_key
            if key is not None:
                first = firsts.setdefault((item.event.workspace_id, key), i)
                if first != i:
                    repeats[i] = first
        fresh = [item for i, item in enumerate(items) if i not in repeats]
        if not fresh:
            return []
        async with self._tx() as tx:
            await self._insert_events(tx, [item.event for item in fresh])
            skipped = await self._skipped_events(tx, [item.event for item in fresh])
            stored = [item for item in fresh if item.event.id not in skipped]
            queued = await self._enqueue_many(tx, stored)
            done = {
                item.event.id: PublishResult(item.event, deliveries, created=True)
                for item, deliveries in zip(stored, queued, strict=True)
            }
            if skipped:
                done |= await self._existing_publishes(
                    tx, [item.event for item in fresh if item.event.id in skipped]
                )
        if any(queued):
            self.notify_local()
        results: list[PublishResult] = []
        for i, item in enumerate(items):
            if i in repeats:
                earlier = results[repeats[i]]
                results.append(PublishResult(earlier.event, earlier.deliveries, created=False))
            else:
                results.append(done[item.event.id])
        return results

    async def _insert_events(self, tx: Tx, events: Sequence[Event]) -> None:
        """One multi-row insert; an event whose idempotency key exists already is skipped."""
        try:
            await self._insert_many(
                tx,
                "events",
                rows.EVENT_COLUMNS,
                [(e.id, e.workspace_id, e.type, e.body, e.idempotency_key, e.created_at)
                 for e in events],
                " ON CONFLICT (workspace_id, idempotency_key) DO NOTHING",
            )  # fmt: skip
        except Exception as exc:
            # Only the primary key is left to violate: an id collision, not an idempotent
            # repeat, must never silently drop an event.
            if self._is_unique_violation(exc):
                raise Conflict("event id already exists", field="id") from None
            raise

    async def _skipped_events(self, tx: Tx, events: Sequence[Event]) -> set[str]:
        """The ids of those events the insert skipped (only an idempotency key can do that:
        a statement that returns rows cannot be run for many parameter sets on every driver)."""
        keyed = [e.id for e in events if e.idempotency_key is not None]
        if not keyed:
            return set()
        found = await tx.fetch(f"SELECT id FROM events WHERE id {self._in(1)}", self._list(keyed))
        return set(keyed).difference(r["id"] for r in found)

    async def _existing_publishes(
        self, tx: Tx, repeats: Sequence[Event]
    ) -> dict[str, PublishResult]:
        """For each idempotent repeat (by its own id): the first event with its key and the
        deliveries it queued, windows it joined included, in id order."""
        keys: dict[str, list[str]] = {}
        for e in repeats:
            keys.setdefault(e.workspace_id, []).append(str(e.idempotency_key))
        firsts: dict[tuple[str, str], Event] = {}
        for workspace_id, names in keys.items():
            found = await tx.fetch(
                f"SELECT * FROM events WHERE workspace_id = $1 AND idempotency_key {self._in(2)}",
                workspace_id,
                self._list(names),
            )
            for row in found:
                event = rows.event(row)
                firsts[(event.workspace_id, str(event.idempotency_key))] = event
        queued: dict[str, dict[str, Delivery]] = {e.id: {} for e in firsts.values()}
        for row in await tx.fetch(
            "SELECT d.*, d.event_id AS queued_for FROM deliveries d"
            f" WHERE d.event_id {self._in(1)}"
            " UNION ALL SELECT d.*, de.event_id AS queued_for FROM delivery_events de"
            f" JOIN deliveries d ON d.id = de.delivery_id WHERE de.event_id {self._in(1)}",
            self._list(list(queued)),
        ):
            queued[row["queued_for"]][row["id"]] = rows.delivery(row)
        results = {}
        for e in repeats:
            original = firsts.get((e.workspace_id, str(e.idempotency_key)))
            if original is None:  # cannot happen: only an existing key makes the insert skip
                raise Conflict("event id already exists", field="id")
            deliveries = sorted(queued[original.id].values(), key=lambda d: d.id)
            results[e.id] = PublishResult(event=original, deliveries=deliveries, created=False)
        return results
