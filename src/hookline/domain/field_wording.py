"""Validation messages in plain product language.

The validation library words its errors for programmers ("String should have at least 1
character", "Input should be less than or equal to 30"). Hookline shows them to people, in the
REST API's 422 answers and beside the dashboard's fields alike, so each kind of error is worded
here: ``required``, ``must not be empty``, ``must be at most 30``, ``is not a known field`` …
A check of Hookline's own (a ``ValueError`` raised by a validator) is already worded and is
kept as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["plain_message"]

_Words = Callable[[Mapping[str, Any]], str]


def _number(value: Any) -> str:
    """A bound as people write it: 30, not 30.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _too_short(ctx: Mapping[str, Any]) -> str:
    least = ctx.get("min_length", 1)
    return "must not be empty" if least == 1 else f"must be at least {least} characters"


def _items(ctx: Mapping[str, Any], bound: str, word: str) -> str:
    count = ctx.get(bound, 0)
    return f"must have {word} {count} item{'' if count == 1 else 's'}"


_WORDS: dict[str, _Words] = {
    "missing": lambda ctx: "required",
    "string_too_short": _too_short,
    "string_too_long": lambda ctx: f"must be at most {ctx.get('max_length')} characters",
    "too_short": lambda ctx: _items(ctx, "min_length", "at least"),
    "too_long": lambda ctx: _items(ctx, "max_length", "at most"),
    "less_than_equal": lambda ctx: f"must be less than or equal to {_number(ctx.get('le'))}",
    "less_than": lambda ctx: f"must be less than {_number(ctx.get('lt'))}",
    "greater_than_equal": lambda ctx: f"must be greater than or equal to {_number(ctx.get('ge'))}",
    "greater_than": lambda ctx: f"must be greater than {_number(ctx.get('gt'))}",
    "int_parsing": lambda ctx: "must be a whole number",
    "int_type": lambda ctx: "must be a whole number",
    "int_from_float": lambda ctx: "must be a whole number",
    "float_parsing": lambda ctx: "must be a number",
    "float_type": lambda ctx: "must be a number",
    "bool_parsing": lambda ctx: "must be true or false",
    "bool_type": lambda ctx: "must be true or false",
    "string_type": lambda ctx: "must be text",
    "list_type": lambda ctx: "must be a list",
    "dict_type": lambda ctx: "must be a JSON object",
    "model_type": lambda ctx: "must be a JSON object",
    "model_attributes_type": lambda ctx: "must be a JSON object",
    "literal_error": lambda ctx: f"must be one of {ctx.get('expected')}",
    "enum": lambda ctx: f"must be one of {ctx.get('expected')}",
    "string_pattern_mismatch": lambda ctx: f"must match the pattern {ctx.get('pattern')}",
    "extra_forbidden": lambda ctx: "is not a known field",
    "datetime_parsing": lambda ctx: "must be a date and time, e.g. 2026-11-23T10:00:00Z",
    "datetime_from_date_parsing": lambda ctx: "must be a date and time, e.g. 2026-11-23T10:00:00Z",
    "datetime_type": lambda ctx: "must be a date and time, e.g. 2026-11-23T10:00:00Z",
}

#: How the library starts a message, and the words Hookline uses instead.
_OPENINGS = (
    ("Input should be ", "must be "),
    ("Input should ", "must "),
    ("String should ", "must "),
    ("List should ", "must "),
    ("Value should ", "must "),
    ("Dictionary should ", "must "),
)


def plain_message(error: Mapping[str, Any]) -> str:
    """One validation error's message in product language."""
    message = str(error.get("msg", "invalid value"))
    kind = str(error.get("type", ""))
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    words = _WORDS.get(kind)
    if words is not None:
        return words(error.get("ctx") or {})
    for opening, plain in _OPENINGS:
        if message.startswith(opening):
            return plain + message.removeprefix(opening)
    return message.removeprefix("Value error, ")
