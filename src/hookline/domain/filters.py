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

Cost: equality (``$eq``, ``$ne``, ``$in``, ``$nin``) is decided by hashing
(:mod:`hookline.domain.equality`), so one match costs about the size of the filter plus the part
of the payload its paths reach, never their product. :func:`validate_filter`, applied to every
filter that is created or changed, bounds the filter: at most :data:`MAX_DEPTH` levels of
nesting and :data:`MAX_NODES` values (keys and path segments included). :func:`compile_filter`
checks the nesting only, so that a filter stored before a limit changed still loads.
"""

from __future__ import annotations

import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from hookline.domain.equality import Lookup, Operands
from hookline.errors import FilterError

MAX_DEPTH: Final = 32
#: The most values a filter may hold: every object, list, string, number, boolean and null,
#: every key, and each segment of a path beyond its first.
MAX_NODES: Final = 10_000


_MISSING: Final = object()  # the value at a path that leads nowhere


class Filter(ABC):
    """A compiled filter; build one with :func:`compile_filter`."""

    @abstractmethod
    def matches(self, payload: Any) -> bool:
        """Whether ``payload``, a decoded JSON value, passes. Never raises."""


class _Node(ABC):
    """One condition of a compiled filter, tested on the value it applies to."""

    @abstractmethod
    def test(self, value: Any, lookup: Lookup) -> bool:
        """Whether ``value`` passes; ``lookup`` finds its equal among the operands."""


@dataclass(frozen=True)
class _Compiled(Filter):
    root: _Node
    operands: Operands

    def matches(self, payload: Any) -> bool:
        return self.root.test(payload, Lookup(self.operands))


@dataclass(frozen=True)
class _Logic(_Node):
    """All or any of ``parts``; with no parts, ``all`` matches everything."""

    combine: Callable[[Iterable[bool]], bool]  # all or any
    parts: tuple[_Node, ...]

    def test(self, value: Any, lookup: Lookup) -> bool:
        return self.combine(part.test(value, lookup) for part in self.parts)


@dataclass(frozen=True)
class _Not(_Node):
    part: _Node

    def test(self, value: Any, lookup: Lookup) -> bool:
        return not self.part.test(value, lookup)


@dataclass(frozen=True)
class _Field(_Node):
    path: tuple[str, ...]
    condition: _Node

    def test(self, value: Any, lookup: Lookup) -> bool:
        return self.condition.test(_lookup(value, self.path), lookup)


@dataclass(frozen=True)
class _Test(_Node):
    """``check(value, operand)``, on the value itself."""

    check: Callable[[Any, Any], bool]
    operand: Any

    def test(self, value: Any, lookup: Lookup) -> bool:
        return self.check(value, self.operand)


@dataclass(frozen=True)
class _EqualsAny(_Node):
    """Equal to one of the operands, or a list holding one (MongoDB's rule for arrays).

    ``numbers`` are the operands' integers in the filter's :class:`Operands`; an operand that
    equals nothing (NaN) has none.
    """

    numbers: frozenset[int]

    def test(self, value: Any, lookup: Lookup) -> bool:
        if not self.numbers:
            return False
        if lookup.find(value) in self.numbers:
            return True
        return isinstance(value, list) and not self.numbers.isdisjoint(lookup.item_numbers(value))


def _lookup(value: Any, path: tuple[str, ...]) -> Any:
    for segment in path:
        if isinstance(value, Mapping):
            value = value.get(segment, _MISSING)
        elif isinstance(value, list) and segment.isdecimal() and segment.isascii():
            value = value[int(segment)] if int(segment) < len(value) else _MISSING
        else:
            return _MISSING
    return value


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
    not a valid filter; the module docstring describes the language. Only the nesting is
    bounded here; :func:`validate_filter` also bounds the size.
    """
    if spec is None:
        return _MATCH_ALL
    if not isinstance(spec, Mapping):
        raise FilterError(f"a filter must be a JSON object, not {type(spec).__name__}")
    _check_depth(spec, 1)
    operands = Operands()
    return _Compiled(_compile(spec, "", operands), operands)


def validate_filter(spec: Any) -> None:
    """Raise :class:`FilterError` unless ``spec`` compiles and holds at most
    :data:`MAX_NODES` values: the check for a filter being created or changed."""
    compile_filter(spec)
    if spec is not None and (size := _count(spec)) > MAX_NODES:
        raise FilterError(f"filter has {size} values, more than the {MAX_NODES} allowed")


def _count(node: Any) -> int:
    """Values in ``node``, keys and extra path segments included (its depth is checked)."""
    if isinstance(node, Mapping):
        keys = sum(key.count(".") + 1 if isinstance(key, str) else 1 for key in node)
        return 1 + keys + sum(_count(child) for child in node.values())
    if isinstance(node, list):
        return 1 + sum(_count(child) for child in node)
    return 1


def _check_depth(node: Mapping[Any, Any] | list[Any], depth: int) -> None:
    # Bounds the recursion of compiling and of comparing operands, and catches cycles.
    if depth > MAX_DEPTH:
        raise FilterError(f"filter is nested more than {MAX_DEPTH} levels deep")
    for child in node.values() if isinstance(node, Mapping) else node:
        if isinstance(child, Mapping | list):
            _check_depth(child, depth + 1)


def _compile(spec: Mapping[Any, Any], at: str, operands: Operands) -> _Node:
    """All the conditions of one filter object, on the value at ``at``."""
    parts = tuple(_compile_key(key, value, at, operands) for key, value in spec.items())
    return parts[0] if len(parts) == 1 else _Logic(all, parts)


def _compile_key(key: Any, value: Any, at: str, operands: Operands) -> _Node:
    where = f"{at}.{key}" if at else str(key)
    if not isinstance(key, str):
        raise FilterError(f"{at or 'filter'}: keys must be strings, got {key!r}")
    if key in _EQUALITY:
        return _equality(key, value, where, operands)
    if key in _VALUE_OPERATORS:
        return _value_operator(key, value, where)
    if key in _LOGICAL:
        return _logical(_LOGICAL[key], value, where, operands)
    if key == "$not":
        _expect(isinstance(value, Mapping), where, "a filter or an operator object")
        return _Not(_compile(value, where, operands))
    if key.startswith("$"):
        raise FilterError(f"{at or 'filter'}: unknown operator '{key}'")
    path = tuple(key.split("."))
    if "" in path:
        raise FilterError(f"{at or 'filter'}: '{key}' is not a path (empty segment)")
    return _Field(path, _compile_condition(value, where, operands))


def _compile_condition(value: Any, at: str, operands: Operands) -> _Node:
    """A path's condition: an operator object, or the value to equal."""
    if not isinstance(value, Mapping) or not value:
        return _equals_any([value], operands)
    operators = [isinstance(key, str) and key.startswith("$") for key in value]
    if not any(operators):
        return _equals_any([value], operands)
    if not all(operators):
        raise FilterError(f"{at}: mixes operators with plain keys")
    return _compile(value, at, operands)


def _expect(ok: bool, at: str, what: str) -> None:
    if not ok:
        raise FilterError(f"{at} expects {what}")


def _equality(name: str, operand: Any, at: str, operands: Operands) -> _Node:
    takes_list, negate = _EQUALITY[name]
    _expect(isinstance(operand, list) or not takes_list, at, "a list")
    node = _equals_any(operand if takes_list else [operand], operands)
    return _Not(node) if negate else node


def _equals_any(values: list[Any], operands: Operands) -> _Node:
    numbers = (operands.intern(value) for value in values)
    return _EqualsAny(frozenset(number for number in numbers if number is not None))


def _value_operator(name: str, operand: Any, at: str) -> _Node:
    check, accepts, what = _VALUE_OPERATORS[name]
    _expect(accepts(operand), at, what)
    return _Test(check, operand)


def _logical(
    combine: Callable[[Iterable[bool]], bool], operand: Any, at: str, operands: Operands
) -> _Node:
    _expect(isinstance(operand, list) and len(operand) > 0, at, "a non-empty list of filters")
    for i, part in enumerate(operand):
        _expect(isinstance(part, Mapping), f"{at}[{i}]", "a filter object")
    return _Logic(
        combine, tuple(_compile(part, f"{at}[{i}]", operands) for i, part in enumerate(operand))
    )


def _is_comparable(operand: Any) -> bool:
    return _is_number(operand) or isinstance(operand, str)


_MATCH_ALL: Final = _Compiled(_Logic(all, ()), Operands())
_LOGICAL: Final = {"$and": all, "$or": any}
_COMPARABLE: Final = "a number or a string"
# equality operator: (takes a list of operands?, negated?)
_EQUALITY: Final = {
    "$eq": (False, False),
    "$ne": (False, True),
    "$in": (True, False),
    "$nin": (True, True),
}
# operator: (check on the field's value, test of the operand, what it must be)
_VALUE_OPERATORS: Final[
    dict[str, tuple[Callable[[Any, Any], bool], Callable[[Any], bool], str]]
] = {
    "$gt": (_GT, _is_comparable, _COMPARABLE),
    "$gte": (_GE, _is_comparable, _COMPARABLE),
    "$lt": (_LT, _is_comparable, _COMPARABLE),
    "$lte": (_LE, _is_comparable, _COMPARABLE),
    "$exists": (_exists, lambda v: isinstance(v, bool), "true or false"),
    "$prefix": (_has_prefix, lambda v: isinstance(v, str), "a string"),
}
