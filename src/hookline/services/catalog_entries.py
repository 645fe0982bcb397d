"""What an entry of either catalog (a workspace's or the shared one) may be: the draft a user
describes, the checks it must pass, and how a replacement or a partial update changes a stored
entry.

An entry's schema has versions; ``schemas`` holds them all and ``schema`` is the newest
(``hookline.domain.catalog_versions`` has the rule). A draft or an update gives one of the two,
not both. Every version must be a valid JSON Schema, and the example payload must match the
newest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from hookline.domain import catalog_versions
from hookline.domain.catalog_versions import Schemas
from hookline.domain.ids import new_id
from hookline.domain.models import CATALOG_LABEL, EVENT_TYPE_NAME, EventType
from hookline.domain.payload_schemas import compile_schema, mismatch
from hookline.domain.records import record
from hookline.errors import ApiError, ValidationFailed, raise_every

__all__ = [
    "CHANGEABLE",
    "SHARED_NAME",
    "EventTypeDraft",
    "changed",
    "check_draft",
    "new_event_type",
    "replaced",
]

#: A name in the shared catalog (Svix's event type names).
SHARED_NAME = re.compile(r"^[a-zA-Z0-9\-_.]+$")
#: The longest name either catalog stores.
NAME_MAX = 200
#: A feature flag or a group name.
#: What a partial update may change.
CHANGEABLE = frozenset(
    {"description", "schema", "schemas", "example", "archived", "deprecated"}
    | {"feature_flags", "group_name", "enforce"}
)


@record
class EventTypeDraft:
    """An event type as a user describes it: ``schema`` (the newest version) or ``schemas``
    (every version), not both."""

    name: str
    description: str = ""
    schema: dict[str, Any] | None = None
    example: Any = None
    schemas: Schemas | None = None
    archived: bool = False
    deprecated: bool = False
    feature_flags: tuple[str, ...] = ()
    group_name: str | None = None
    enforce: bool = False
    """Refuse a publish whose payload does not match the newest schema."""


def check_draft(draft: EventTypeDraft, *, shared: bool = False) -> None:
    """Every problem of a new entry at once (a 422): its name (Svix's names in the shared
    catalog, Hookline's event type names in a workspace's), schema versions and example, its
    feature flags and group."""
    problems = _name_problems(draft.name, shared)
    problems += _schema_problems(draft.schema, draft.schemas, both=bool(draft.schemas))
    problems += _label_problems(draft.feature_flags, draft.group_name)
    if not problems:
        problems += _example_problems(_versions(draft), draft.example)
    raise_every(problems)


def new_event_type(workspace_id: str, draft: EventTypeDraft, now: float) -> EventType:
    """A new entry of ``workspace_id``'s catalog (``SHARED_CATALOG``: the shared one)."""
    made = EventType(new_id("et"), workspace_id, draft.name, "", None, None, now, now)
    return replaced(made, draft, now)


def replaced(current: EventType, draft: EventTypeDraft, now: float) -> EventType:
    """``current`` replaced whole by ``draft`` (its id, name, scope and creation kept)."""
    schemas = _versions(draft)
    return replace(
        current,
        description=draft.description,
        schema=catalog_versions.newest(schemas),
        example=draft.example,
        updated_at=now,
        schemas=schemas,
        archived=draft.archived,
        deprecated=draft.deprecated,
        feature_flags=tuple(draft.feature_flags),
        group_name=draft.group_name,
        enforce=draft.enforce,
    )


def changed(current: EventType, changes: Mapping[str, Any], now: float) -> EventType:
    """``current`` with what ``changes`` names of ``CHANGEABLE`` (a 422 for anything wrong).
    ``schema`` replaces the newest version; ``schemas`` replaces them all."""
    both = "schemas" in changes
    problems = _schema_problems(changes.get("schema"), changes.get("schemas"), both=both)
    problems += _label_problems(changes.get("feature_flags", ()), changes.get("group_name"))
    raise_every(problems)
    schemas = current.schemas
    if "schemas" in changes:
        schemas = changes["schemas"] or None
    elif "schema" in changes:
        schemas = catalog_versions.with_newest(schemas, changes["schema"])
    fields = {k: v for k, v in changes.items() if k in CHANGEABLE - {"schema", "schemas"}}
    if "feature_flags" in fields:
        fields["feature_flags"] = tuple(fields["feature_flags"] or ())
    if "description" in fields:
        fields["description"] = fields["description"] or ""
    newest = catalog_versions.newest(schemas)
    updated = replace(current, **fields, schemas=schemas, schema=newest, updated_at=now)
    raise_every(_example_problems(updated.schemas, updated.example))
    return updated


def _versions(draft: EventTypeDraft) -> Schemas | None:
    if draft.schemas:
        return dict(draft.schemas)
    return catalog_versions.with_newest(None, draft.schema)


def _name_problems(name: str, shared: bool) -> list[ApiError]:
    pattern = SHARED_NAME if shared else EVENT_TYPE_NAME
    if len(name) > NAME_MAX or not pattern.match(name):
        allowed = "letters, digits, '-', '_' and '.'" if shared else "dot-separated words"
        message = f"name: an event type name is 1 to {NAME_MAX} characters, {allowed}"
        return [ValidationFailed(message, field="name")]
    return []


def _schema_problems(
    schema: dict[str, Any] | None, schemas: Mapping[str, Any] | None, *, both: bool = False
) -> list[ApiError]:
    """The problems of a schema and of a set of versions (``both``: ``schemas`` was given, so
    a ``schema`` beside it is a problem of its own)."""
    if both and schema is not None:
        message = "schema: give the newest version (schema) or every version (schemas), not both"
        return [ValidationFailed(message, field="schema")]
    problems: list[ApiError] = []
    problem = None if schema is None else catalog_versions.schema_problem(schema)
    if problem is not None:
        problems.append(ValidationFailed(f"schema: {problem}", field="schema"))
    for field, message in catalog_versions.version_problems(schemas or {}):
        problems.append(ValidationFailed(f"{field}: {message}", field=field))
    return problems


def _label_problems(flags: Any, group: str | None) -> list[ApiError]:
    problems: list[ApiError] = []
    if any(not CATALOG_LABEL.match(flag) for flag in flags or ()):
        message = "feature_flags: a flag is 1 to 256 letters, digits, '-', '_' and '.'"
        problems.append(ValidationFailed(message, field="feature_flags"))
    if group is not None and not CATALOG_LABEL.match(group):
        message = "group_name: a group is 1 to 256 letters, digits, '-', '_' and '.'"
        problems.append(ValidationFailed(message, field="group_name"))
    return problems


def _example_problems(schemas: Schemas | None, example: object) -> list[ApiError]:
    """The example must match the newest version (when there are both)."""
    newest = catalog_versions.newest(schemas)
    if newest is None or example is None:
        return []
    found = mismatch(compile_schema(newest), example, "example")
    if found is None:
        return []
    message = f"example does not match the schema: {found}"
    return [ValidationFailed(message, field="example")]
