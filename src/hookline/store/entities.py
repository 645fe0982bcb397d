"""Entity-state storage for entity events (SQL, every dialect).

An entity's ``updated_at`` is its version: it strictly increases with every change
(:func:`hookline.domain.entities.next_time`), so a write that names the version it read
succeeds only if nobody changed the entity in between. The new state and its event commit
together, or not at all; the caller reads again and retries when it lost the race.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence

from hookline.domain.entities import Change, EntityState, Labels
from hookline.domain.models import Delivery, Event
from hookline.store.items import WindowSpec
from hookline.store.rows import Row
from hookline.store.tx import Tx
from hookline.store.windows import SqlWindowOps

# The same statements as SqlStore.publish's: an entity event is published like any event.
_INSERT_EVENT = (
    "INSERT INTO events (id, workspace_id, type, body, idempotency_key, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6)"
)
_CREATE = (
    "INSERT INTO entities (workspace_id, path, value, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id, path) DO NOTHING RETURNING path"
)
_UPDATE = (
    "UPDATE entities SET value = $3, updated_at = $4"
    " WHERE workspace_id = $1 AND path = $2 AND updated_at = $5 RETURNING path"
)
_DELETE = (
    "DELETE FROM entities WHERE workspace_id = $1 AND path = $2 AND updated_at = $3 RETURNING path"
)


class EntityStore(ABC):
    """Domain operations on remembered entity state."""

    @abstractmethod
    async def get_entity(self, workspace_id: str, path: str) -> EntityState | None:
        """The entity's last state, or None if it is not known (never seen, or deleted)."""

    @abstractmethod
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


class SqlEntityOps(SqlWindowOps, EntityStore):
    """Entity operations in SQL."""

    @abstractmethod
    def notify_local(self) -> None: ...

    async def get_entity(self, workspace_id: str, path: str) -> EntityState | None:
        sql = "SELECT * FROM entities WHERE workspace_id = $1 AND path = $2"
        async with self._read() as conn:
            row = await conn.fetchrow(sql, workspace_id, path)
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
        async with self._tx() as tx:
            if not await self._save_state(tx, workspace_id, path, change):
                return None
            e = event
            await tx.execute(
                _INSERT_EVENT, e.id, e.workspace_id, e.type, e.body, e.idempotency_key, e.created_at
            )
            sent = await self._enqueue(tx, event, deliveries, windows, fifo)
        if sent:
            self.notify_local()
        return sent

    async def _save_state(self, tx: Tx, workspace_id: str, path: str, change: Change) -> bool:
        old, new = change.old, change.new
        if new is None:
            assert old is not None, "only a known entity can be forgotten"
            found = await tx.fetchrow(_DELETE, workspace_id, path, old.updated_at)
        elif old is None:
            value = _encode(new)
            found = await tx.fetchrow(
                _CREATE, workspace_id, path, value, new.created_at, new.updated_at
            )
        else:
            value = _encode(new)
            found = await tx.fetchrow(
                _UPDATE, workspace_id, path, value, new.updated_at, old.updated_at
            )
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
