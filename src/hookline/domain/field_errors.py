"""A validation error in words a user can act on: the failing field and a message. The REST
API's 422 answers, the dashboard's forms and the services that validate documents (a flow
import's webhooks) all name fields this way."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from hookline.domain.field_wording import plain_message
from hookline.errors import ValidationFailed

__all__ = ["describe", "problem", "problems"]

_NAMED_FIELD = re.compile(r"^([a-z_][a-z0-9_.]*): (.+)$", re.DOTALL)


def _field(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def describe(error: Mapping[str, Any]) -> tuple[str | None, str]:
    """The failing field and a human message of one pydantic error (``field_wording``)."""
    message = plain_message(error)
    field = _field(tuple(error.get("loc", ())))
    named = _NAMED_FIELD.match(message)
    if field is None and named:  # a cross-field check names its field first ("url: …")
        field, message = named.group(1), named.group(2)
    return field, message


def problem(error: Mapping[str, Any], prefix: str = "") -> ValidationFailed:
    """One pydantic error as the 422 it answers: ``"field: message"`` naming the field (under
    ``prefix``, for a part of a document such as ``webhooks.2``), ``required`` if missing."""
    field, message = describe(error)
    path = ".".join(p for p in (prefix, field or "") if p) or None
    text = f"{path}: {message}" if path else message
    return ValidationFailed(text, field=path, required=error.get("type") == "missing")


def problems(errors: Iterable[Mapping[str, Any]], prefix: str = "") -> list[ValidationFailed]:
    """Every pydantic error (``ValidationError.errors()``) as :func:`problem` words it."""
    return [problem(error, prefix) for error in errors]
