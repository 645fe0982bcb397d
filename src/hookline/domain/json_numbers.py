"""A JSON ``true`` or ``false`` is not a number.

pydantic's lax mode reads ``true`` as 1 and ``false`` as 0 wherever an ``int`` or a ``float``
is declared, so ``"max_attempts": true`` was stored as 1 and ``"response_delay_seconds": false``
as 0: input the API's own document calls invalid. ``NumbersNotBooleans``, a base of every
request model, refuses a boolean in a field (or in an item of a list field) whose type admits a
number but no boolean, with the same 422 as any other invalid field.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationInfo, field_validator

MESSAGE = "a number is required, not true or false"


def _plain_types(annotation: Any) -> Iterator[Any]:
    """The types an annotation admits, with ``Annotated``, ``Optional`` and unions unwrapped."""
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _plain_types(get_args(annotation)[0])
    elif origin is Union or origin is types.UnionType:
        for arg in get_args(annotation):
            yield from _plain_types(arg)
    else:
        yield annotation


def numbers_only(annotation: Any) -> bool:
    """Whether the annotation admits an ``int`` or a ``float``, and neither ``bool`` nor ``Any``."""
    admitted = set(_plain_types(annotation))
    return bool(admitted & {int, float}) and not admitted & {bool, Any}


def list_of_numbers(annotation: Any) -> bool:
    """Whether the annotation is a list (or an optional one) of numbers only."""
    return any(
        get_origin(plain) is list and numbers_only(get_args(plain)[0])
        for plain in _plain_types(annotation)
    )


class NumbersNotBooleans(BaseModel):
    """A model whose number fields refuse ``true`` and ``false`` (see the module's text)."""

    #: The fields that hold a number, and those that hold a list of numbers (found once).
    number_fields: ClassVar[frozenset[str]] = frozenset()
    number_list_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        fields = cls.model_fields.items()
        cls.number_fields = frozenset(n for n, f in fields if numbers_only(f.annotation))
        cls.number_list_fields = frozenset(n for n, f in fields if list_of_numbers(f.annotation))

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_booleans(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and info.field_name in cls.number_fields:
            raise ValueError(MESSAGE)
        if info.field_name in cls.number_list_fields and isinstance(value, list):
            if any(isinstance(item, bool) for item in value):
                raise ValueError(MESSAGE)
        return value
