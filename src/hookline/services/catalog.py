"""The event-type catalog of a workspace: each type with an optional JSON Schema and an example
payload that must match it; and the presets (``hookline.domain.presets``) Hookline adds to it
by itself."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import jsonschema

from hookline.domain.entities import check_kind
from hookline.domain.ids import new_id
from hookline.domain.models import EventType
from hookline.domain.presets import JOB_EVENT_TYPES, EventTypeSpec, entity_event_types
from hookline.domain.records import record
from hookline.errors import Conflict, NotFound, ValidationFailed
from hookline.services.deps import Deps
from hookline.store import Store


@record
class EventTypeDraft:
    """An event type as a user describes it."""

    name: str
    description: str = ""
    schema: dict[str, Any] | None = None
    example: Any = None


@record
class PresetResult:
    """The preset's event types: those created now, and those the catalog already had."""

    created: list[str]
    existing: list[str]


def check_schema(schema: Mapping[str, object] | None, example: object) -> None:
    """A schema must be a valid JSON Schema (2020-12), and the example must match it."""
    if schema is None:
        return
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ValidationFailed(f"schema: {exc.message}", field="schema") from None
    if example is not None:
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(schema).iter_errors(example)
        )
        if error is not None:
            raise ValidationFailed(
                f"example does not match the schema: {error.message}", field="example"
            )


def new_event_type(workspace_id: str, draft: EventTypeDraft, now: float) -> EventType:
    return EventType(
        new_id("et"), workspace_id, draft.name, draft.description, draft.schema, draft.example,
        now, now,
    )  # fmt: skip


async def create_event_type(deps: Deps, workspace_id: str, draft: EventTypeDraft) -> EventType:
    check_schema(draft.schema, draft.example)
    et = new_event_type(workspace_id, draft, time.time())
    await deps.store.config.save_event_type(et, create=True)
    return et


async def list_event_types(deps: Deps, workspace_id: str) -> list[EventType]:
    return await deps.store.config.list_event_types(workspace_id)


async def get_event_type(deps: Deps, workspace_id: str, name: str) -> EventType:
    found = await deps.store.config.get_event_type(workspace_id, name)
    if found is None:
        raise NotFound(f"event type {name!r} not found")
    return found


async def update_event_type(
    deps: Deps, workspace_id: str, name: str, changes: Mapping[str, Any]
) -> EventType:
    """Change what ``changes`` names of ``description``, ``schema`` and ``example``."""
    current = await get_event_type(deps, workspace_id, name)
    updated = replace(
        current,
        description=changes.get("description", current.description) or "",
        schema=changes.get("schema", current.schema),
        example=changes.get("example", current.example),
        updated_at=time.time(),
    )
    check_schema(updated.schema, updated.example)
    await deps.store.config.save_event_type(updated, create=False)
    return updated


async def delete_event_type(deps: Deps, workspace_id: str, name: str) -> None:
    if not await deps.store.config.delete_event_type(workspace_id, name):
        raise NotFound(f"event type {name!r} not found")


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
    """Create the missing event types; the names (created, already there)."""
    created: list[str] = []
    existing: list[str] = []
    for spec in specs:
        if await store.config.get_event_type(workspace_id, spec.name) is not None:
            existing.append(spec.name)
            continue
        draft = EventTypeDraft(spec.name, spec.description, spec.schema, spec.example)
        try:
            et = new_event_type(workspace_id, draft, time.time())
            await store.config.save_event_type(et, create=True)
        except Conflict:  # another request created it a moment ago
            existing.append(spec.name)
            continue
        created.append(spec.name)
    return created, existing
