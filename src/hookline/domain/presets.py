"""Event types Hookline can describe by itself: job events and entity events, each with a JSON
Schema and an example payload (which the Test button and the preview use).

``hookline.services.catalog`` adds them to a workspace's catalog: on request (the presets), and
for an entity kind the first time an entity of that kind is seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hookline.domain.entities import (
    OPERATIONS,
    Change,
    EntityState,
    Labels,
    Operation,
    envelope,
    parse_path,
)

__all__ = ["JOB_EVENT_TYPES", "EventTypeSpec", "entity_event_types"]

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
