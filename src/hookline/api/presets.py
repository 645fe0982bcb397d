"""Event types Hookline can describe by itself: job events and entity events.

A preset adds its event types, each with a JSON Schema and an example payload (which the Test
button and the preview use), to a workspace's catalog; event types that exist are left as
they are. Entity kinds are also registered automatically the first time an entity of that kind
is seen (``api/entities.py``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hookline.api.auth import WorkspaceId
from hookline.api.state import State
from hookline.domain.entities import (
    OPERATIONS,
    Change,
    EntityState,
    Labels,
    Operation,
    check_kind,
    envelope,
    parse_path,
)
from hookline.domain.ids import new_id
from hookline.domain.models import EventType
from hookline.domain.nul import NoNulModel
from hookline.errors import Conflict, ValidationFailed
from hookline.store import Store

router = APIRouter(prefix="/v1/workspaces/{ws}/event-types/presets", tags=["catalog"])

_REF = ["integer", "string", "null"]
_JOB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["jobId", "jobStatus"],
    "properties": {
        "jobId": {"type": ["integer", "string"], "description": "The job (group) that ran."},
        "jobStatus": {"type": "string", "description": "Complete, Failed, Canceled, …"},
        "outputId": {"type": _REF, "description": "The output the job wrote."},
        "flowId": {"type": _REF, "description": "The flow the output belongs to."},
    },
}
_STATE = {
    "type": "object",
    "required": ["key", "properties", "createTime", "updateTime"],
    "properties": {
        "key": {"type": "string"},
        "properties": {"type": "object"},
        "createTime": {"type": "string"},
        "updateTime": {"type": "string"},
    },
}
_NULL = {"type": "null"}
_EXAMPLE_TIME = 1_767_225_600.0  # 2026-01-01T00:00:00Z, so examples stay the same


@dataclass(frozen=True, slots=True)
class EventTypeSpec:
    name: str
    description: str
    schema: dict[str, Any]
    example: Any


JOB_EVENT_TYPES = (
    EventTypeSpec(
        "job.succeeded",
        "A job of a flow finished successfully.",
        _JOB_SCHEMA,
        {"jobId": 42, "jobStatus": "Complete", "outputId": 3, "flowId": 7},
    ),
    EventTypeSpec(
        "job.failed",
        "A job of a flow failed.",
        _JOB_SCHEMA,
        {"jobId": 43, "jobStatus": "Failed", "outputId": 3, "flowId": 7},
    ),
)


def entity_event_types(kind: str, collection_path: str | None = None) -> list[EventTypeSpec]:
    """``{kind}.created|updated|deleted`` with the envelope's schema and examples."""
    path = parse_path(f"{collection_path or kind.replace('/', '-') + 's'}/example-1")
    labels = Labels(kind, path.collection, "org-1")
    t = _EXAMPLE_TIME
    old = EntityState({"title": "Example", "status": "open"}, labels, t, t)
    new = EntityState({"title": "Example", "status": "done"}, labels, t, t + 60)
    changes = {
        "created": Change("created", labels, None, old, None),
        "updated": Change("updated", labels, old, new, ["status"]),
        "deleted": Change("deleted", labels, new, None, None),
    }
    return [
        EventTypeSpec(
            f"{kind}.{op}",
            f"An entity of kind {kind!r} was {op}"
            + (" (or soft-removed: softRemoved became true)." if op == "deleted" else "."),
            _entity_schema(op),
            envelope(path, changes[op], t + 120),
        )
        for op in OPERATIONS
    ]


def _entity_schema(op: Operation) -> dict[str, Any]:
    texts = ("eventTimestamp", "entityPath", "entityId", "entityKey", "collectionPath")
    data = {
        # A soft delete keeps the entity: its value is the state with softRemoved true.
        "value": {"anyOf": [_STATE, _NULL]} if op == "deleted" else _STATE,
        "oldValue": _NULL if op == "created" else _STATE,
        "updateMask": {"type": "array", "items": {"type": "string"}} if op == "updated" else _NULL,
    }
    return {
        "type": "object",
        "required": [*texts, "operationType", "organizationId", "data"],
        "properties": {
            **{name: {"type": "string"} for name in (*texts, "organizationId")},
            "operationType": {"const": op},
            "data": {"type": "object", "required": list(data), "properties": data},
        },
    }


async def ensure_event_types(
    store: Store, workspace_id: str, specs: Sequence[EventTypeSpec]
) -> tuple[list[str], list[str]]:
    """Create the missing event types; the names (created, already there)."""
    created: list[str] = []
    existing: list[str] = []
    for spec in specs:
        if await store.get_event_type(workspace_id, spec.name) is not None:
            existing.append(spec.name)
            continue
        now = time.time()
        et = EventType(
            new_id("et"), workspace_id, spec.name, spec.description, spec.schema, spec.example,
            now, now,
        )  # fmt: skip
        try:
            await store.save_event_type(et, create=True)
        except Conflict:  # another request created it a moment ago
            existing.append(spec.name)
            continue
        created.append(spec.name)
    return created, existing


class PresetOut(BaseModel):
    created: list[str]
    existing: list[str]


class EntityKindsIn(NoNulModel):
    model_config = ConfigDict(extra="forbid")

    kinds: list[str] = Field(min_length=1, max_length=100)


@router.post("/jobs", response_model=PresetOut)
async def job_presets(ws: WorkspaceId, state: State) -> PresetOut:
    """Register ``job.succeeded`` and ``job.failed`` (payload ``jobId``, ``jobStatus``,
    ``outputId``, ``flowId``)."""
    created, existing = await ensure_event_types(state.store, ws, JOB_EVENT_TYPES)
    return PresetOut(created=created, existing=existing)


@router.post("/entities", response_model=PresetOut)
async def entity_presets(ws: WorkspaceId, body: EntityKindsIn, state: State) -> PresetOut:
    """Register ``{kind}.created|updated|deleted`` before the first entity of a kind arrives,
    so webhooks can subscribe to, say, ``comment.deleted`` right away."""
    specs: list[EventTypeSpec] = []
    for kind in body.kinds:
        try:
            specs += entity_event_types(check_kind(kind))
        except ValueError as exc:
            raise ValidationFailed(f"kinds: {exc}", field="kinds") from None
    created, existing = await ensure_event_types(state.store, ws, specs)
    return PresetOut(created=created, existing=existing)
