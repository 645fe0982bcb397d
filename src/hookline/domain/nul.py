"""Text Hookline keeps in its own columns may not contain U+0000 (NUL).

PostgreSQL's text types cannot hold it (a NUL in a name or a search term was an opaque 500
there while SQLite stored it), and no webhook name, idempotency key or event type needs it.
So it is refused where input arrives, with the same 422 on both databases:

- ``NoNulModel``: the base of request models; every string in every field is checked, except
  in the fields a model names in ``free_json`` (an event's payload, an event type's example
  and schema), which are stored as JSON text where a NUL travels escaped as ``\\u0000``;
- ``NulRefusal`` (``hookline.api.limits``) refuses ``%00`` in a request's path and query.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ValidationInfo, field_validator

from hookline.domain.json_numbers import NumbersNotBooleans

MESSAGE = "text must not contain the NUL character (U+0000)"
#: The validation context of configuration read back from the database: checks that guard what
#: may be created are not applied again to what was stored before they existed.
STORED: dict[str, Any] = {"stored": True}


def is_stored(info: ValidationInfo) -> bool:
    """Whether this validation is of stored configuration (see ``STORED``)."""
    return bool(info.context and info.context.get("stored"))


def has_nul(value: object) -> bool:
    """Whether a string, or any key or string inside lists and dicts, contains U+0000."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(has_nul(item) for item in value)
    if isinstance(value, BaseModel):
        return False  # a nested model checks its own fields
    return False


class NoNulModel(NumbersNotBooleans):
    """A request model whose strings may not contain U+0000 (see the module's docstring), and
    whose numbers are not ``true`` or ``false`` (``hookline.domain.json_numbers``)."""

    free_json: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name in cls.free_json or is_stored(info):
            return value
        if has_nul(value):
            raise ValueError(MESSAGE)
        return value
