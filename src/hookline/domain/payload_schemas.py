"""Checking a payload against an event type's schema, and naming what fails (pure).

A schema is compiled once (:func:`compile_schema`) with the validator of the draft it names
(``hookline.domain.catalog_versions``) and an empty registry of other documents: a ``$ref``
reaches only into the schema itself, never out to the network. The answer to a payload that
does not match is its most relevant error (``jsonschema``'s ``best_match``) with the path of
the value at fault, ``payload.order.total: 'abc' is not of type 'number'``.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import referencing
import referencing.exceptions
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from hookline.domain.records import record

__all__ = ["Mismatch", "compile_schema", "mismatch"]

_NO_DOCUMENTS: referencing.Registry[Any] = referencing.Registry()


@record
class Mismatch:
    """Where a payload departs from its schema (``payload.order.total``) and how."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def compile_schema(schema: dict[str, Any]) -> Validator:
    """A validator for ``schema`` (a valid one: see ``catalog_versions.schema_problem``)."""
    draft = validator_for(schema, default=jsonschema.Draft202012Validator)
    return draft(schema, registry=_NO_DOCUMENTS)


def mismatch(validator: Validator, payload: Any, prefix: str = "payload") -> Mismatch | None:
    """How ``payload`` fails ``validator`` (None: it matches), its path starting at
    ``prefix``. A ``$ref`` the schema cannot resolve fails every payload, saying so."""
    try:
        error = jsonschema.exceptions.best_match(validator.iter_errors(payload))
    except referencing.exceptions.Unresolvable as exc:
        return Mismatch(prefix, f"the schema refers to {exc.ref!r}, which it does not contain")
    if error is None:
        return None
    path = "".join(f".{step}" for step in error.absolute_path)
    return Mismatch(prefix + path, error.message)
