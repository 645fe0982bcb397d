"""The versions of an event type's schema, and which of them Hookline's own API calls ``schema``
(pure).

One rule, for every front door:

* ``schemas`` is authoritative: every version of the schema by its number, written as a string
  (``{"1": {...}, "2": {...}}``), as Svix stores them. Version numbers are positive integers
  written without leading zeros.
* ``schema`` is derived: the newest version, ``schemas[str(max(int(k)))]``, or None when there
  is no version.
* Setting ``schema`` through Hookline's API replaces the newest version's entry, creating
  ``"1"`` when there is none; setting it to null removes every version. Either way, what the
  API shows as ``schema`` afterwards is what was set. A new version is added by sending
  ``schemas`` with it.
* Entries stored before versions existed (a ``schema`` and no ``schemas``) read as version 1.

Every version must be a valid JSON Schema of the draft it names in ``$schema``, any draft that
``jsonschema`` knows (Svix's schemas are usually draft-07), and of draft 2020-12 when it names
none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema
from jsonschema.validators import validator_for

__all__ = [
    "MAX_VERSIONS",
    "Schemas",
    "from_columns",
    "newest",
    "schema_problem",
    "version_problems",
    "with_newest",
]

Schemas = dict[str, dict[str, Any]]

#: The most versions one event type keeps.
MAX_VERSIONS = 100


def newest(schemas: Mapping[str, dict[str, Any]] | None) -> dict[str, Any] | None:
    """The newest version's schema (the highest number), or None without versions."""
    if not schemas:
        return None
    return schemas[str(max(int(key) for key in schemas))]


def with_newest(schemas: Schemas | None, schema: dict[str, Any] | None) -> Schemas | None:
    """``schemas`` after Hookline's API set ``schema``: the newest version replaced (version 1
    created when there is none); None (no versions at all) when ``schema`` is None."""
    if schema is None:
        return None
    if not schemas:
        return {"1": schema}
    return {**schemas, str(max(int(key) for key in schemas)): schema}


def from_columns(schema: dict[str, Any] | None, schemas: Schemas | None) -> Schemas | None:
    """The versions of a stored entry: its ``schemas``, or its ``schema`` as version 1 when it
    was stored before versions existed. An empty mapping is no versions (None)."""
    if schemas:
        return schemas
    return None if schema is None else {"1": schema}


def version_problems(schemas: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What is wrong with a set of versions, as ``(field, message)`` pairs (none: it is
    valid): each key a version number, each value a valid JSON Schema, at most
    ``MAX_VERSIONS`` of them."""
    if len(schemas) > MAX_VERSIONS:
        return [("schemas", f"at most {MAX_VERSIONS} versions (this has {len(schemas)})")]
    found: list[tuple[str, str]] = []
    for key, schema in schemas.items():
        field = f"schemas.{key}"
        if not (key.isascii() and key.isdigit() and key == str(int(key)) and int(key) > 0):
            found.append((field, 'a version is a positive integer such as "1" or "2"'))
            continue
        problem = schema_problem(schema)
        if problem is not None:
            found.append((field, problem))
    return found


def schema_problem(schema: object) -> str | None:
    """Why ``schema`` is not a valid JSON Schema of the draft it names (None: it is)."""
    if not isinstance(schema, dict):
        return "a schema is a JSON object"
    if not isinstance(schema.get("$schema", ""), str):
        return "$schema names a draft by its URI, a string"
    draft = validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        draft.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return f"not a valid JSON Schema: {exc.message}"
    return None
