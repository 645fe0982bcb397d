"""Entity state: a client reports an entity's state (or its removal) and Hookline publishes
what changed, ``{kind}.created``, ``{kind}.updated`` or ``{kind}.deleted``.

The state change and its event commit in one transaction, against the state the change was
computed from; when another request changed the entity in between, the change is computed
again from the new state (optimistic concurrency), so every event's ``oldValue`` is exactly the
``value`` of the event before it. An entity kind's event types join the catalog the first time
one of its entities is seen; its events are held to the catalog's checks like any published
event (``hookline.services.catalog_gate``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from hookline.domain.entities import (
    Change,
    EntityPath,
    EntityState,
    Labels,
    document,
    envelope,
    parse_path,
    remove,
    resolve_labels,
    upsert,
)
from hookline.domain.models import Delivery, Event
from hookline.domain.presets import entity_event_types
from hookline.domain.publication import new_event
from hookline.domain.records import record
from hookline.errors import Conflict, NotFound, ValidationFailed
from hookline.services.catalog import ensure_event_types
from hookline.services.deps import Deps
from hookline.services.publishing import fan_out, fifo_webhooks

_MAX_TRIES = 100
Decide = Callable[[EntityState | None, float], Change | None]


@record
class LabelsGiven:
    """The labels a client may state (each defaults from the path and the workspace)."""

    kind: str | None = None
    entity_key: str | None = None
    organization_id: str | None = None


@record
class EntityChange:
    """What a report did: nothing (``change`` None), or the change, its event and deliveries."""

    change: Change | None
    event: Event | None = None
    deliveries: tuple[Delivery, ...] = ()


@record
class EntityView:
    """An entity's last state as Hookline remembers it (``document`` is its JSON shape)."""

    document: dict[str, Any]
    labels: Labels


def parse(path: str) -> EntityPath:
    try:
        return parse_path(path)
    except ValueError as exc:
        raise ValidationFailed(f"path: {exc}", field="path") from None


async def report_entity(
    deps: Deps, workspace_id: str, path: str, properties: Mapping[str, Any], given: LabelsGiven
) -> EntityChange:
    """The entity's current properties: publishes ``{kind}.created`` or ``{kind}.updated``
    (``{kind}.deleted`` when ``softRemoved`` turns true), or nothing when nothing changed."""
    where = parse(path)

    def decide(current: EntityState | None, now: float) -> Change | None:
        labels = _labels(where, current, workspace_id, given)
        return upsert(current, dict(properties), labels, now)

    return await _apply(deps, workspace_id, where, decide)


async def delete_entity(
    deps: Deps, workspace_id: str, path: str, given: LabelsGiven
) -> EntityChange:
    """Publishes ``{kind}.deleted`` with the last state as ``oldValue`` and forgets the entity;
    an unknown entity changes nothing."""
    where = parse(path)

    def decide(current: EntityState | None, now: float) -> Change | None:
        if current is None:
            return None
        return remove(current, _labels(where, current, workspace_id, given))

    return await _apply(deps, workspace_id, where, decide)


async def get_entity(deps: Deps, workspace_id: str, path: str) -> EntityView:
    where = parse(path)
    found = await deps.store.entities.get_entity(workspace_id, where.path)
    shown = document(where, found)
    if found is None or shown is None:
        raise NotFound(f"entity {where.path!r} is not known")
    return EntityView(shown, found.labels)


def _labels(
    where: EntityPath, current: EntityState | None, workspace_id: str, given: LabelsGiven
) -> Labels:
    try:
        return resolve_labels(
            where,
            current,
            kind=given.kind,
            entity_key=given.entity_key,
            organization_id=given.organization_id,
            default_organization=workspace_id,
        )
    except ValueError as exc:
        raise ValidationFailed(f"kind: {exc}", field="kind") from None


async def _apply(deps: Deps, workspace_id: str, where: EntityPath, decide: Decide) -> EntityChange:
    registered: set[str] = set()
    for attempt in range(_MAX_TRIES):
        current = await deps.store.entities.get_entity(workspace_id, where.path)
        now = time.time()
        change = decide(current, now)
        if change is None:
            return EntityChange(None)
        if change.labels.kind not in registered:
            specs = entity_event_types(change.labels.kind, where.collection_path)
            await ensure_event_types(deps.store, workspace_id, specs)
            registered.add(change.labels.kind)
        published = await _publish(deps, workspace_id, where, change, now)
        if published is not None:
            return published
        # Another request changed the entity first: compute the change again from its state.
        await asyncio.sleep(random.uniform(0, min(0.05, 0.002 * (attempt + 1))))
    raise Conflict(f"entity {where.path!r} kept changing concurrently; send it again")


async def _publish(
    deps: Deps, workspace_id: str, where: EntityPath, change: Change, now: float
) -> EntityChange | None:
    payload = envelope(where, change, now)
    event = new_event(workspace_id, change.event_type, payload, None, now)
    routes = await deps.router.routes(workspace_id)
    if routes is None:
        raise NotFound(f"workspace {workspace_id} not found")
    await deps.catalog_gate.check(
        deps.store, workspace_id, routes.version, change.event_type, payload, len(event.body)
    )
    targets = await routes.targets(change.event_type, payload, len(event.body))
    deliveries, windows = fan_out(event, targets, now)
    sent = await deps.store.entities.commit_entity_change(
        workspace_id, where.path, change, event, deliveries,
        windows=windows, fifo=fifo_webhooks(targets),
    )  # fmt: skip
    if sent is None:
        return None
    return EntityChange(change, event, tuple(sent))
