"""The event-type catalog of a workspace: each type with optional versioned JSON Schemas and an
example payload that must match the newest (``hookline.services.catalog_entries``), and the
presets (``hookline.domain.presets``) Hookline adds to it by itself.

A workspace sees the shared catalog beside its own (``hookline.services.shared_catalog``): its
listing and a type looked up by name include the shared entries, and an entry of its own
shadows a shared one of the same name. Only the admin changes the shared entries, and only
through the shared catalog; a workspace's key cannot change or delete them here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from hookline.domain.entities import check_kind
from hookline.domain.models import SHARED_CATALOG, EventType
from hookline.domain.presets import JOB_EVENT_TYPES, EventTypeSpec, entity_event_types
from hookline.domain.records import record
from hookline.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hookline.services.catalog_entries import (
    EventTypeDraft,
    changed,
    check_draft,
    new_event_type,
)
from hookline.services.deps import Deps
from hookline.store import Store


@record
class PresetResult:
    """The preset's event types: those created now, and those the catalog already had."""

    created: list[str]
    existing: list[str]


async def create_event_type(deps: Deps, workspace_id: str, draft: EventTypeDraft) -> EventType:
    """A new entry of the workspace's own (``Conflict`` when it has one of that name; a shared
    one of that name is shadowed by it)."""
    check_draft(draft)
    et = new_event_type(workspace_id, draft, time.time())
    await deps.store.catalog.save_event_type(et, create=True)
    return et


async def list_event_types(
    deps: Deps, workspace_id: str, *, include_archived: bool = False
) -> list[EventType]:
    """What the workspace sees by name: its entries and the shared ones (``workspace_id``
    ``SHARED_CATALOG``), the archived ones only with ``include_archived``."""
    store = deps.store
    return await store.catalog.workspace_event_types(
        workspace_id, include_archived=include_archived
    )


async def get_event_type(deps: Deps, workspace_id: str, name: str) -> EventType:
    """The entry the workspace sees under ``name``: its own, else the shared one."""
    found = await deps.store.catalog.find_event_type(workspace_id, name)
    if found is None:
        raise NotFound(f"event type {name!r} not found")
    return found


async def update_event_type(
    deps: Deps, workspace_id: str, name: str, changes: Mapping[str, Any]
) -> EventType:
    """Change what ``changes`` names (see ``catalog_entries.CHANGEABLE``) of the workspace's
    own entry."""
    current = await _own(deps, workspace_id, name)
    updated = changed(current, changes, time.time())
    await deps.store.catalog.save_event_type(updated, create=False)
    return updated


async def delete_event_type(deps: Deps, workspace_id: str, name: str) -> None:
    await _own(deps, workspace_id, name)
    if not await deps.store.catalog.delete_event_type(workspace_id, name):
        raise NotFound(f"event type {name!r} not found")


async def _own(deps: Deps, workspace_id: str, name: str) -> EventType:
    """The workspace's own entry: 404 when it sees none, 403 when it sees a shared one."""
    found = await get_event_type(deps, workspace_id, name)
    if found.workspace_id == SHARED_CATALOG:
        raise Forbidden(
            f"event type {name!r} belongs to the shared catalog, which only the admin changes",
            code="shared_event_type",
        )
    return found


async def add_job_presets(deps: Deps, workspace_id: str) -> PresetResult:
    """``job.succeeded`` and ``job.failed`` (payload ``jobId``, ``jobStatus``, ``outputId``,
    ``flowId``)."""
    return PresetResult(*await ensure_event_types(deps.store, workspace_id, JOB_EVENT_TYPES))


async def add_entity_presets(deps: Deps, workspace_id: str, kinds: Sequence[str]) -> PresetResult:
    """``{kind}.created|updated|deleted`` for each kind, before its first entity arrives."""
    specs: list[EventTypeSpec] = []
    for kind in kinds:
        try:
            specs += entity_event_types(check_kind(kind))
        except ValueError as exc:
            raise ValidationFailed(f"kinds: {exc}", field="kinds") from None
    return PresetResult(*await ensure_event_types(deps.store, workspace_id, specs))


async def ensure_event_types(
    store: Store, workspace_id: str, specs: Sequence[EventTypeSpec]
) -> tuple[list[str], list[str]]:
    """Create the missing event types; the names (created, already there). A type the shared
    catalog has is there already."""
    created: list[str] = []
    existing: list[str] = []
    for spec in specs:
        if await store.catalog.find_event_type(workspace_id, spec.name) is not None:
            existing.append(spec.name)
            continue
        draft = EventTypeDraft(spec.name, spec.description, spec.schema, spec.example)
        try:
            et = new_event_type(workspace_id, draft, time.time())
            await store.catalog.save_event_type(et, create=True)
        except Conflict:  # another request created it a moment ago
            existing.append(spec.name)
            continue
        created.append(spec.name)
    return created, existing
