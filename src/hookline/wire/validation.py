"""Validation errors in words a user can act on: the failing field and a message per error,
for the REST API's 422 answers and the dashboard's forms alike."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["describe", "every_field"]

_NAMED_FIELD = re.compile(r"^([a-z_][a-z0-9_.]*): (.+)$", re.DOTALL)


def _field(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def describe(error: Mapping[str, Any]) -> tuple[str | None, str]:
    """The failing field and a human message of one pydantic error."""
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    field = _field(tuple(error.get("loc", ())))
    named = _NAMED_FIELD.match(message)
    if field is None and named:  # a cross-field check names its field first ("url: …")
        field, message = named.group(1), named.group(2)
    return field, message


def every_field(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """One entry per invalid field, in the order pydantic found them (a field that failed
    several ways, as a union does, is reported by its first failure)."""
    found: dict[str | None, dict[str, Any]] = {}
    for error in errors:
        field, message = describe(error)
        code = "required" if error.get("type") == "missing" else "invalid"
        found.setdefault(field, {"field": field, "code": code, "message": message})
    return list(found.values())
