"""Publishing: a batch of events stored in one multi-row insert and their deliveries queued in
the same transaction; an idempotent repeat gets the first publish's event and deliveries back."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import cast

from hookline.domain.models import Delivery, Event
from hookline.errors import Conflict
from hookline.store import rows
from hookline.store.dialect import Dialect
from hookline.store.records import PublishItem, PublishResult, WindowSpec
from hookline.store.statements.publishing import PublishingSql
from hookline.store.tx import Tx
from hookline.store.windows import Windows

_SKIP_TAKEN = " ON CONFLICT (workspace_id, idempotency_key) DO NOTHING"
_KEY_COLUMNS = ("workspace_id", "idempotency_key", "event_id")


class PublishingRepository:
    """Events and what they queue, committed together."""

    def __init__(self, dialect: Dialect, windows: Windows) -> None:
        self._d = dialect
        self._sql = dialect.prepare(PublishingSql())
        self._windows = windows

    async def publish_many(self, items: Sequence[PublishItem]) -> list[PublishResult]:
        """Commit events and their deliveries, all of them in one transaction; one result per
        item, in order.

        For each of an item's ``windows`` its event joins that webhook's open aggregation
        window (or opens one); the window's delivery is among the item's returned deliveries.
        Items join windows in order, so events of one call share a window as if published one
        after another.

        An event whose idempotency key exists already is not stored again: the first event and
        its deliveries come back with ``created=False``. So does a key repeated within ``items``
        (its first occurrence is the one stored). An event whose id exists already without
        being such a repeat raises ``Conflict`` and nothing of the call is stored. So does an
        item routed at a ``config_version`` that is no longer current (``publish_current``
        leaves such items out instead).
        """
        results = await self.publish_current(items)
        if any(result is None for result in results):
            raise Conflict("the workspace's configuration changed while routing: route again")
        return [result for result in results if result is not None]

    async def publish_current(self, items: Sequence[PublishItem]) -> list[PublishResult | None]:
        """``publish_many``, but an item routed at a ``config_version`` that is no longer the
        workspace's is left out (None in its place) while the others are committed.

        The versions are read inside the transaction, which begins after every item was handed
        over: an item whose version still holds there was routed with every configuration
        change committed before it was published. One read per transaction, whatever the
        number of items and workspaces, instead of one per publish before routing. Where every
        item is plain (:func:`_plain`) and the dialect can, one statement compares the versions
        and writes everything (see ``pg_arrays``)."""
        repeats = _repeats(items)
        fresh = [item for i, item in enumerate(items) if i not in repeats]
        if not fresh:
            return []
        done = await self._publish_plain(fresh)
        if done is None:
            done = await self._publish_in_tx(fresh)
        if any(result and result.created and result.deliveries for result in done.values()):
            self._d.notify_local()
        results: list[PublishResult | None] = []
        for i, item in enumerate(items):
            if i in repeats:
                earlier = results[repeats[i]]
                results.append(
                    None
                    if earlier is None  # the first was left out: so is its repeat
                    else PublishResult(earlier.event, earlier.deliveries, created=False)
                )
            else:
                results.append(done[item.event.id])
        return results

    async def _publish_plain(
        self, items: Sequence[PublishItem]
    ) -> dict[str, PublishResult | None] | None:
        """Items that are all plain (no idempotency key, no window, no webhook to check for
        being disabled) in the dialect's one statement; None if they are not, or it has none.
        Each item's result by its event's id: None for one left out as stale."""
        if not all(_plain(item) for item in items):
            return None
        try:
            stored = await self._d.publish_plain(
                [(*rows.traceparent_params(item.event), item.config_version) for item in items],
                [
                    (
                        *rows.delivery_params(d, d.webhook_id in cast("frozenset[str]", item.fifo)),
                        item.config_version,
                    )
                    for item in items
                    for d in item.deliveries
                ],
            )
        except Exception as exc:
            self._raise_if_id_taken(exc)
            raise
        if stored is None:
            return None
        return {
            item.event.id: PublishResult(item.event, list(item.deliveries), created=True)
            if item.event.id in stored
            else None
            for item in items
        }

    async def _publish_in_tx(self, items: Sequence[PublishItem]) -> dict[str, PublishResult | None]:
        """Items in one transaction: keys taken, events stored, deliveries and windows queued.
        Each item's result by its event's id: None for one left out as stale."""
        async with self._d.tx() as tx:
            stale = await self._stale(tx, items)
            current = [item for item in items if item.event.id not in stale]
            skipped = await self._claim_keys(tx, [item.event for item in current])
            stored = [item for item in current if item.event.id not in skipped]
            await self._insert_events(tx, [item.event for item in stored])
            queued = await self._windows.enqueue(tx, stored)
            done: dict[str, PublishResult | None] = {
                item.event.id: PublishResult(item.event, deliveries, created=True)
                for item, deliveries in zip(stored, queued, strict=True)
            }
            if skipped:
                done |= await self._existing_publishes(
                    tx, [item.event for item in current if item.event.id in skipped]
                )
        return done | dict.fromkeys(stale)

    async def publish(
        self,
        event: Event,
        deliveries: Sequence[Delivery],
        *,
        windows: Sequence[WindowSpec] = (),
        fifo: Collection[str] | None = None,
    ) -> PublishResult:
        """``publish_many`` of one event (see ``PublishItem`` for the arguments)."""
        (result,) = await self.publish_many([PublishItem(event, deliveries, windows, fifo)])
        return result

    async def _stale(self, tx: Tx, items: Sequence[PublishItem]) -> set[str]:
        """The ids of the items' events routed at a config version that is no longer their
        workspace's (or of a workspace that is gone)."""
        checked = {i.event.workspace_id for i in items if i.config_version is not None}
        if not checked:
            return set()
        found = await tx.fetch(self._sql.versions, self._d.list_param(sorted(checked)))
        versions = {row["id"]: int(row["config_version"]) for row in found}
        return {
            i.event.id
            for i in items
            if i.config_version is not None
            and versions.get(i.event.workspace_id) != i.config_version
        }

    async def _claim_keys(self, tx: Tx, events: Sequence[Event]) -> set[str]:
        """Take each keyed event's idempotency key for it; the ids of those whose key another
        event holds already (their publish is a repeat: they are not stored)."""
        keyed = [e for e in events if e.idempotency_key is not None]
        if not keyed:
            return set()
        values = [(e.workspace_id, e.idempotency_key, e.id) for e in keyed]
        await self._d.insert_many(tx, "event_keys", _KEY_COLUMNS, values, _SKIP_TAKEN)
        found = await tx.fetch(self._sql.claimed, self._d.list_param([e.id for e in keyed]))
        return {e.id for e in keyed}.difference(r["event_id"] for r in found)

    async def _insert_events(self, tx: Tx, events: Sequence[Event]) -> None:
        """One multi-row insert. The trace context column is written only for a batch that has
        one (traces exported)."""
        if not events:
            return
        columns: tuple[str, ...]
        if not any(e.traceparent is not None for e in events):
            columns, values = rows.EVENT_COLUMNS, [rows.event_params(e) for e in events]
        else:
            columns = rows.TRACED_EVENT_COLUMNS
            values = [rows.traceparent_params(e) for e in events]
        try:
            await self._d.insert_many(tx, "events", columns, values)
        except Exception as exc:
            self._raise_if_id_taken(exc)
            raise

    def _raise_if_id_taken(self, exc: Exception) -> None:
        """``Conflict`` for an event whose id exists already, the one unique violation left
        once repeats of idempotency keys are left out: it must never silently drop an event."""
        if self._d.is_unique_violation(exc, "events"):
            raise Conflict("event id already exists", field="id") from None

    async def _existing_publishes(
        self, tx: Tx, repeats: Sequence[Event]
    ) -> dict[str, PublishResult]:
        """For each idempotent repeat (by its own id): the first event with its key and the
        deliveries it queued, windows it joined included, in id order."""
        firsts = await self._first_events(tx, repeats)
        queued: dict[str, dict[str, Delivery]] = {e.id: {} for e in firsts.values()}
        found = await tx.fetch(self._sql.queued, self._d.list_param(list(queued)))
        for row in found:
            queued[row["queued_for"]][row["id"]] = rows.delivery(row)
        results = {}
        for e in repeats:
            original = firsts.get((e.workspace_id, str(e.idempotency_key)))
            if original is None:  # cannot happen: only an existing key makes the insert skip
                raise Conflict("event id already exists", field="id")
            deliveries = sorted(queued[original.id].values(), key=lambda d: d.id)
            results[e.id] = PublishResult(event=original, deliveries=deliveries, created=False)
        return results

    async def _first_events(self, tx: Tx, repeats: Sequence[Event]) -> dict[tuple[str, str], Event]:
        """The stored event of each repeat's workspace and idempotency key."""
        keys: dict[str, list[str]] = {}
        for e in repeats:
            keys.setdefault(e.workspace_id, []).append(str(e.idempotency_key))
        firsts: dict[tuple[str, str], Event] = {}
        for workspace_id, names in keys.items():
            found = await tx.fetch(self._sql.firsts, workspace_id, self._d.list_param(names))
            for row in found:
                event = rows.event(row)
                firsts[(event.workspace_id, str(event.idempotency_key))] = event
        return firsts


def _plain(item: PublishItem) -> bool:
    """A publish with no idempotency key, no window and no webhook seen disabled, whose FIFO
    webhooks are known: its event and deliveries are all it writes."""
    return (
        item.event.idempotency_key is None
        and not item.windows
        and item.fifo is not None
        and item.held is not None
        and not item.held
    )


def _repeats(items: Sequence[PublishItem]) -> dict[int, int]:
    """A key repeated within the call: each later occurrence's index to its first's (the only
    one inserted)."""
    firsts: dict[tuple[str, str], int] = {}
    repeats: dict[int, int] = {}
    for i, item in enumerate(items):
        key = item.event.idempotency_key
        if key is not None:
            first = firsts.setdefault((item.event.workspace_id, key), i)
            if first != i:
                repeats[i] = first
    return repeats
