"""Entity state for entity events.

An entity's ``updated_at`` is its version: it strictly increases with every change
(:func:`hookline.domain.entities.next_time`), so a write that names the version it read
succeeds only if nobody changed the entity in between. The new state and its event commit
together, or not at all; the caller reads again and retries when it lost the race.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence

from hookline.domain.entities import Change, EntityState, Labels
from hookline.domain.models import Delivery, Event
from hookline.store import rows
from hookline.store.dialect import Dialect
from hookline.store.items import PublishItem, WindowSpec
from hookline.store.rows import Row
from hookline.store.statements.entities import EntitySql
from hookline.store.tx import Tx
from hookline.store.windows import Windows


class EntityRepository:
    """Remembered entity state, changed together with the event that reports the change."""

    def __init__(self, dialect: Dialect, windows: Windows) -> None:
        self._d = dialect
        self._sql = dialect.prepare(EntitySql())
        self._windows = windows

    async def get_entity(self, workspace_id: str, path: str) -> EntityState | None:
        """The entity's last state, or None if it is not known (never seen, or deleted)."""
        row = await self._d.fetchrow(self._sql.entity, workspace_id, path)
        return None if row is None else _state(row)

    async def commit_entity_change(
        self,
        workspace_id: str,
        path: str,
        change: Change,
        event: Event,
        deliveries: Sequence[Delivery],
        *,
        windows: Sequence[WindowSpec] = (),
        fifo: Collection[str] | None = None,
    ) -> list[Delivery] | None:
        """Apply ``change`` and publish ``event`` with its deliveries in one transaction.

        The change applies only to the state it was computed from (``change.old``, None for an
        entity that must not exist yet); otherwise nothing is written and None comes back.
        On success: the deliveries, with the aggregation windows the event joined.
        ``windows`` and ``fifo`` are as in ``PublishItem``.
        """
        e = event
        async with self._d.tx() as tx:
            if not await self._save_state(tx, workspace_id, path, change):
                return None
            await tx.execute(self._sql.insert_event, *rows.event_params(e))
            item = PublishItem(event, deliveries, windows, fifo)
            (sent,) = await self._windows.enqueue(tx, [item])
        if sent:
            self._d.notify_local()
        return sent

    async def _save_state(self, tx: Tx, workspace_id: str, path: str, change: Change) -> bool:
        old, new, sql = change.old, change.new, self._sql
        if new is None:
            assert old is not None, "only a known entity can be forgotten"
            found = await tx.fetchrow(sql.delete, workspace_id, path, old.updated_at)
        elif old is None:
            args = (workspace_id, path, _encode(new), new.created_at, new.updated_at)
            found = await tx.fetchrow(sql.create, *args)
        else:
            args = (workspace_id, path, _encode(new), new.updated_at, old.updated_at)
            found = await tx.fetchrow(sql.update, *args)
        return found is not None


def _encode(state: EntityState) -> str:
    # json, not orjson: properties may hold integers beyond 64 bits, as event payloads may.
    labels = state.labels
    return json.dumps(
        {
            "properties": state.properties,
            "kind": labels.kind,
            "entityKey": labels.entity_key,
            "organizationId": labels.organization_id,
        }
    )


def _state(row: Row) -> EntityState:
    value = json.loads(row["value"])
    labels = Labels(value["kind"], value["entityKey"], value["organizationId"])
    return EntityState(value["properties"], labels, row["created_at"], row["updated_at"])
