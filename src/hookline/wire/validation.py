"""Validation errors in words a user can act on: the failing field and a message per error,
for the REST API's 422 answers and the dashboard's forms alike (one error's wording is
``hookline.domain.field_errors``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hookline.domain.field_errors import describe, problems
from hookline.errors import field_entries

__all__ = ["describe", "every_field"]


def every_field(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """One entry per invalid field, in the order pydantic found them (a field that failed
    several ways, as a union does, is reported by its first failure); the entries of a 422's
    ``errors`` (``hookline.errors.field_entries``)."""
    return list(field_entries(problems(errors)))
