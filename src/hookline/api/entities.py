"""Entity events: report an entity's state (or its removal) and Hookline publishes what changed.

The state change and its event commit in one transaction, against the state the change was
computed from; when another request changed the entity in between, the change is computed
again from the new state (optimistic concurrency), so every event's ``oldValue`` is exactly the
``value`` of the event before it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from hookline.api.auth import WorkspaceId
from hookline.api.presets import ensure_event_types, entity_event_types
from hookline.api.state import AppState, State
from hookline.domain.entities import (
    MAX_KIND,
    Change,
    EntityPath,
    EntityState,
    Labels,
    Operation,
    document,
    envelope,
    parse_path,
    remove,
    resolve_labels,
    upsert,
)
from hookline.domain.nul import NoNulModel
from hookline.errors import Conflict, NotFound, ValidationFailed
from hookline.services.publishing import fan_out, fifo_webhooks, new_event
from hookline.wire.schemas import DeliveryRef

router = APIRouter(prefix="/v1/workspaces/{ws}/entities", tags=["entities"])

_MAX_TRIES = 100
Decide = Callable[[EntityState | None, float], Change | None]
Kind = Annotated[str | None, Field(min_length=1, max_length=MAX_KIND)]
EntityKey = Annotated[str | None, Field(min_length=1, max_length=1024)]
OrganizationId = Annotated[str | None, Field(min_length=1, max_length=200)]


class EntityIn(NoNulModel):
    free_json: ClassVar[frozenset[str]] = frozenset({"properties"})
    model_config = ConfigDict(extra="forbid")

    properties: dict[str, Any]
    kind: Kind = None
    entityKey: EntityKey = None
    organizationId: OrganizationId = None


class EntityChangeOut(BaseModel):
    changed: bool
    event_id: str | None = None
    type: str | None = None
    operationType: Operation | None = None
    updateMask: list[str] | None = None
    deliveries: list[DeliveryRef] = Field(default_factory=list)


class EntityOut(BaseModel):
    key: str
    properties: dict[str, Any]
    createTime: str
    updateTime: str
    kind: str
    entityKey: str
    organizationId: str


@router.post("/{path:path}", response_model=EntityChangeOut)
async def report_entity(
    ws: WorkspaceId, path: str, body: EntityIn, state: State
) -> EntityChangeOut:
    """The entity's current properties: publishes ``{kind}.created`` or ``{kind}.updated``
    (``{kind}.deleted`` when ``softRemoved`` turns true), or nothing when nothing changed."""
    where = _parse(path)

    def decide(current: EntityState | None, now: float) -> Change | None:
        labels = _labels(where, current, ws, body.kind, body.entityKey, body.organizationId)
        return upsert(current, body.properties, labels, now)

    return await _apply(state, ws, where, decide)


@router.delete("/{path:path}", response_model=EntityChangeOut)
async def delete_entity(
    ws: WorkspaceId,
    path: str,
    state: State,
    kind: Annotated[Kind, Query()] = None,
    entityKey: Annotated[EntityKey, Query()] = None,  # the payload's spelling
    organizationId: Annotated[OrganizationId, Query()] = None,
) -> EntityChangeOut:
    """Publishes ``{kind}.deleted`` with the last state as ``oldValue`` and forgets the entity;
    an unknown entity changes nothing."""
    where = _parse(path)

    def decide(current: EntityState | None, now: float) -> Change | None:
        if current is None:
            return None
        return remove(current, _labels(where, current, ws, kind, entityKey, organizationId))

    return await _apply(state, ws, where, decide)


@router.get("/{path:path}", response_model=EntityOut)
async def get_entity(ws: WorkspaceId, path: str, state: State) -> EntityOut:
    """The entity's last state as Hookline remembers it."""
    where = _parse(path)
    found = await state.store.get_entity(ws, where.path)
    shown = document(where, found)
    if found is None or shown is None:
        raise NotFound(f"entity {where.path!r} is not known")
    labels = found.labels
    return EntityOut(
        **shown,
        kind=labels.kind,
        entityKey=labels.entity_key,
        organizationId=labels.organization_id,
    )


def _parse(path: str) -> EntityPath:
    try:
        return parse_path(path)
    except ValueError as exc:
        raise ValidationFailed(f"path: {exc}", field="path") from None


def _labels(
    where: EntityPath,
    current: EntityState | None,
    ws: str,
    kind: str | None,
    entity_key: str | None,
    organization_id: str | None,
) -> Labels:
    try:
        return resolve_labels(
            where,
            current,
            kind=kind,
            entity_key=entity_key,
            organization_id=organization_id,
            default_organization=ws,
        )
    except ValueError as exc:
        raise ValidationFailed(f"kind: {exc}", field="kind") from None


async def _apply(state: AppState, ws: str, where: EntityPath, decide: Decide) -> EntityChangeOut:
    registered: set[str] = set()
    for attempt in range(_MAX_TRIES):
        current = await state.store.get_entity(ws, where.path)
        now = time.time()
        change = decide(current, now)
        if change is None:
            return EntityChangeOut(changed=False, updateMask=[])
        if change.labels.kind not in registered:
            specs = entity_event_types(change.labels.kind, where.collection_path)
            await ensure_event_types(state.store, ws, specs)
            registered.add(change.labels.kind)
        published = await _publish(state, ws, where, change, now)
        if published is not None:
            return published
        # Another request changed the entity first: compute the change again from its state.
        await asyncio.sleep(random.uniform(0, min(0.05, 0.002 * (attempt + 1))))
    raise Conflict(f"entity {where.path!r} kept changing concurrently; send it again")


async def _publish(
    state: AppState, ws: str, where: EntityPath, change: Change, now: float
) -> EntityChangeOut | None:
    payload = envelope(where, change, now)
    event = new_event(ws, change.event_type, payload, None, now)
    targets = await state.router.route(ws, change.event_type, payload, len(event.body))
    if targets is None:
        raise NotFound(f"workspace {ws} not found")
    deliveries, windows = fan_out(event, targets, now)
    sent = await state.store.commit_entity_change(
        ws, where.path, change, event, deliveries, windows=windows, fifo=fifo_webhooks(targets)
    )
    if sent is None:
        return None
    return EntityChangeOut(
        changed=True,
        event_id=event.id,
        type=event.type,
        operationType=change.operation,
        updateMask=change.mask,
        deliveries=[DeliveryRef(id=d.id, webhook_id=d.webhook_id) for d in sent],
    )
