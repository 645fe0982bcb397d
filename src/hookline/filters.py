"""Payload filters: which events a webhook receives.

A filter is a JSON object in the MongoDB style that Convoy and Hookdeck Outpost use::

    {"type": "job.completed", "data.output.id": {"$in": [3, 7]}, "data.n": {"$gt": 1}}

Keys are dotted paths into the payload (a numeric segment indexes a list: ``items.0.id``) or
operators; all of them must hold. A path's condition is a value it must equal, or an object
of operators (``{"$gt": 1, "$lte": 5}``, all must hold). An object with no ``$`` keys is a
value to equal exactly, not a nested filter. Operators:

* ``$eq``, ``$ne``: equal / not equal. JSON equality: ``1 == 1.0``, but ``true`` is not ``1``.
  On a list-valued field ``$eq`` also matches when the list *contains* the operand.
* ``$in``, ``$nin`` (a list): equals one of / none of the items, with the same list rule.
* ``$gt``, ``$gte``, ``$lt``, ``$lte`` (a number or a string): numbers compare with numbers
  (booleans are not numbers), strings with strings; any other pairing is false.
* ``$exists`` (a boolean): the path is present (even if null) / absent.
* ``$prefix`` (a string): the field is a string starting with it.
* ``$and``, ``$or`` (a non-empty list of filters) and ``$not`` (a filter or an operator
  object). Inside these, an object is a filter on the current value: at the top level
  ``{"$or": [{"a": 1}, {"b": 2}]}``, on a field ``{"n": {"$not": {"$gt": 5}}}``.

A missing field matches ``$exists: false``, ``$ne``, ``$nin`` and ``$not`` of anything it
does not match, and nothing else. ``{}`` matches every payload, and so does a null filter.
Matching never raises; every mistake is a :class:`FilterError` from :func:`compile_filter`.
Paths cannot name keys that contain ``.`` or start with ``$``.
"""

from __future__ import annotations

import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from hookline.errors import FilterError

MAX_DEPTH: Final = 32


_MISSING: Final = object()  # the value at a path that leads nowhere


class Filter(ABC):
    """A compiled filter; build one with :func:`compile_filter`."""

    @abstractmethod
    def matches(self, payload: Any) -> bool:
        """Whether ``payload``, a decoded JSON value, passes. Never raises."""


@dataclass(frozen=True)
class _Logic(Filter):
    """All or any of ``parts``; with no parts, ``all`` matches everything."""

    combine: Callable[[Iterable[bool]], bool]  # all or any
    parts: tuple[Filter, ...]

    def matches(self, payload: Any) -> bool:
        return self.combine(part.matches(payload) for part in self.parts)


@dataclass(frozen=True)
class _Not(Filter):
    part: Filter

    def matches(self, payload: Any) -> bool:
        return not self.part.matches(payload)


@dataclass(frozen=True)
class _Field(Filter):
    path: tuple[str, ...]
    test: Filter

    def matches(self, payload: Any) -> bool:
        return self.test.matches(_lookup(payload, self.path))


@dataclass(frozen=True)
class _Test(Filter):
    """``check(value, operand)``, on the value itself."""

    check: Callable[[Any, Any], bool]
    operand: Any

    def matches(self, payload: Any) -> bool:
        return self.check(payload, self.operand)


def _lookup(value: Any, path: tuple[str, ...]) -> Any:
    for segment in path:
        if isinstance(value, Mapping):
            value = value.get(segment, _MISSING)
        elif isinstance(value, list) and segment.isdecimal() and segment.isascii():
            value = value[int(segment)] if int(segment) < len(value) else _MISSING
        else:
            return _MISSING
    return value


def _equals(value: Any, operand: Any) -> bool:
    return _equals_any(value, [operand])


def _equals_any(value: Any, operands: list[Any]) -> bool:
    """Equal to one of ``operands``, or a list holding one (MongoDB's rule for arrays)."""
    items = value if isinstance(value, list) else ()
    return any(_same(value, op) or any(_same(item, op) for item in items) for op in operands)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: unlike Python's, ``True`` is not ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    return (a is None and b is None) or (isinstance(a, str) and isinstance(b, str) and a == b)


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def check(value: Any, operand: float | str) -> bool:
        same_kind = isinstance(value, str) if isinstance(operand, str) else _is_number(value)
        return same_kind and compare(value, operand)

    return check


_GT, _GE, _LT, _LE = map(_ordered, (operator.gt, operator.ge, operator.lt, operator.le))


def _exists(value: Any, present: bool) -> bool:
    return (value is not _MISSING) == present


def _has_prefix(value: Any, prefix: str) -> bool:
    return isinstance(value, str) and value.startswith(prefix)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def compile_filter(spec: Any) -> Filter:
    """Compile a filter spec: a decoded JSON object, or None for no filter.

    Raises :class:`FilterError`, naming the path or operator at fault, for anything that is
    not a valid filter; the module docstring describes the language.
    """
    if spec is None:
        return _MATCH_ALL
    if not isinstance(spec, Mapping):
        raise FilterError(f"a filter must be a JSON object, not {type(spec).__name__}")
    _check_depth(spec, 1)
    return _compile(spec, "")


def validate_filter(spec: Any) -> None:
    """Raise :class:`FilterError` unless ``spec`` compiles."""
    compile_filter(spec)


def _check_depth(node: Mapping[Any, Any] | list[Any], depth: int) -> None:
    # Bounds the recursion of compiling and of comparing operands, and catches cycles.
    if depth > MAX_DEPTH:
        raise FilterError(f"filter is nested more than {MAX_DEPTH} levels deep")
    for child in node.values() if isinstance(node, Mapping) else node:
        if isinstance(child, Mapping | list):
            _check_depth(child, depth + 1)


def _compile(spec: Mapping[Any, Any], at: str) -> Filter:
    """All the conditions of one filter object, on the value at ``at``."""
    parts = tuple(_compile_key(key, value, at) for key, value in spec.items())
    return parts[0] if len(parts) == 1 else _Logic(all, parts)


def _compile_key(key: Any, value: Any, at: str) -> Filter:
    where = f"{at}.{key}" if at else str(key)
    if not isinstance(key, str):
        raise FilterError(f"{at or 'filter'}: keys must be strings, got {key!r}")
    if key in _VALUE_OPERATORS:
        return _value_operator(key, value, where)
    if key in _LOGICAL:
        return _logical(_LOGICAL[key], value, where)
    if key == "$not":
        _expect(isinstance(value, Mapping), where, "a filter or an operator object")
        return _Not(_compile(value, where))
    if key.startswith("$"):
        raise FilterError(f"{at or 'filter'}: unknown operator '{key}'")
    path = tuple(key.split("."))
    if "" in path:
        raise FilterError(f"{at or 'filter'}: '{key}' is not a path (empty segment)")
    return _Field(path, _compile_condition(value, where))


def _compile_condition(value: Any, at: str) -> Filter:
    """A path's condition: an operator object, or the value to equal."""
    if not isinstance(value, Mapping) or not value:
        return _Test(_equals, value)
    operators = [isinstance(key, str) and key.startswith("$") for key in value]
    if not any(operators):
        return _Test(_equals, value)
    if not all(operators):
        raise FilterError(f"{at}: mixes operators with plain keys")
    return _compile(value, at)


def _expect(ok: bool, at: str, what: str) -> None:
    if not ok:
        raise FilterError(f"{at} expects {what}")


def _value_operator(name: str, operand: Any, at: str) -> Filter:
    check, negate, accepts, what = _VALUE_OPERATORS[name]
    _expect(accepts(operand), at, what)
    return _Not(_Test(check, operand)) if negate else _Test(check, operand)


def _logical(combine: Callable[[Iterable[bool]], bool], operand: Any, at: str) -> Filter:
    _expect(isinstance(operand, list) and len(operand) > 0, at, "a non-empty list of filters")
    for i, part in enumerate(operand):
        _expect(isinstance(part, Mapping), f"{at}[{i}]", "a filter object")
    return _Logic(combine, tuple(_compile(part, f"{at}[{i}]") for i, part in enumerate(operand)))


def _is_comparable(operand: Any) -> bool:
    return _is_number(operand) or isinstance(operand, str)


_MATCH_ALL: Final = _Logic(all, ())
_LOGICAL: Final = {"$and": all, "$or": any}
_COMPARABLE: Final = "a number or a string"
# operator: (check on the field's value, negated?, test of the operand, what it must be)
_VALUE_OPERATORS: Final[
    dict[str, tuple[Callable[[Any, Any], bool], bool, Callable[[Any], bool], str]]
] = {
    "$eq": (_equals, False, lambda v: True, "a value"),
    "$ne": (_equals, True, lambda v: True, "a value"),
    "$in": (_equals_any, False, lambda v: isinstance(v, list), "a list"),
    "$nin": (_equals_any, True, lambda v: isinstance(v, list), "a list"),
    "$gt": (_GT, False, _is_comparable, _COMPARABLE),
    "$gte": (_GE, False, _is_comparable, _COMPARABLE),
    "$lt": (_LT, False, _is_comparable, _COMPARABLE),
    "$lte": (_LE, False, _is_comparable, _COMPARABLE),
    "$exists": (_exists, False, lambda v: isinstance(v, bool), "true or false"),
    "$prefix": (_has_prefix, False, lambda v: isinstance(v, str), "a string"),
}
