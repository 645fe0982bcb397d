"""JSON equality for payload filters, in time linear in the payload and the filter.

JSON equality is not Python's: ``1`` equals ``1.0`` but ``true`` is not ``1``; objects are
equal when they have the same keys with equal values, lists when their items are equal in
order; NaN equals nothing. Comparing every operand of an ``$in`` with every item of a list
field costs their product, so instead:

* when a filter is compiled, :class:`Operands` gives each distinct operand value, and every
  value inside one, a small integer: a scalar is keyed by its kind and value, a list by its
  items' integers, an object by its keys and its values' integers;
* while one payload is matched, :class:`Lookup` finds the integer of a payload value the same
  way, or learns that it has none (no operand holds a value equal to it). Each object or list
  is examined once per payload, and only as deep and as wide as some operand goes: a value
  whose size or depth no operand has is settled at once.

A value equals an operand exactly when their integers are the same, so ``$in`` is a set
look-up and a list field against ``n`` operands costs its length plus ``n``, not the product.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

Key = Any  # a scalar, or a tuple for a boolean, null, a list or an object


def scalar_key(value: Any) -> Any:
    """The key of a JSON scalar, or None when no JSON value equals it (NaN, a non-JSON type).

    Numbers and strings are their own keys: Python already hashes ``1`` and ``1.0`` alike and
    tells them apart from strings. Booleans are tagged (``True == 1`` in Python, not in JSON),
    and so is null; lists and objects have tagged tuples of their own (see :class:`Operands`).
    """
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    return _NULL if value is None else None


_NULL: Final = ("z",)


def _shape(value: list[Any] | Mapping[Any, Any]) -> Key:
    return ("l" if isinstance(value, list) else "d", len(value))


def _pairs(value: list[Any] | Mapping[Any, Any]) -> Iterable[tuple[Any, Any]]:
    return value.items() if isinstance(value, Mapping) else enumerate(value)


class Operands:
    """The operand values of one compiled filter, interned (fixed once compiling is done)."""

    def __init__(self) -> None:
        self.ids: dict[Key, int] = {}
        self.shapes: set[Key] = set()  # the kinds and lengths of the lists and objects held
        self.height = 0  # how deeply lists and objects nest in the deepest operand

    def intern(self, value: Any) -> int | None:
        """The integer of ``value`` (a decoded JSON value, nested at most a few dozen levels),
        or None when it contains NaN or a non-JSON value and so equals nothing."""
        found = self._intern(value)
        return None if found is None else found[0]

    def _intern(self, value: Any) -> tuple[int, int] | None:
        """``(integer, height)`` of ``value``."""
        if isinstance(value, list | Mapping):
            children = [(k, self._intern(v)) for k, v in _pairs(value)]
            if any(found is None for _, found in children):
                return None
            known = [(k, found) for k, found in children if found is not None]
            height = 1 + max((found[1] for _, found in known), default=0)
            self.shapes.add(_shape(value))
            self.height = max(self.height, height)
            return self._number(_container_key(value, [(k, f[0]) for k, f in known])), height
        key = scalar_key(value)
        return None if key is None else (self._number(key), 0)

    def _number(self, key: Key) -> int:
        return self.ids.setdefault(key, len(self.ids))


def _container_key(value: list[Any] | Mapping[Any, Any], children: list[tuple[Any, int]]) -> Key:
    if isinstance(value, list):
        return ("l", tuple(number for _, number in children))
    return ("d", frozenset(children))


class _TooDeep(Exception):
    """A value nests deeper than any operand: it equals none (see :meth:`Lookup.find`)."""


class Lookup:
    """The integers of one payload's values against one filter's :class:`Operands`.

    Made for a single match: it remembers what it found by object identity, which holds only
    while the payload is alive and unchanged.
    """

    __slots__ = ("_found", "_height", "_ids", "_items", "_shapes")

    def __init__(self, operands: Operands) -> None:
        self._ids = operands.ids
        self._shapes = operands.shapes
        self._height = operands.height
        self._found: dict[int, int | None] = {}
        self._items: dict[int, frozenset[int]] = {}

    def find(self, value: Any) -> int | None:
        """The integer of the operand value equal to ``value``, or None if there is none."""
        try:
            return self._find(value, self._height)
        except _TooDeep:
            # Deeper than every operand, so equal to none; its parts may still equal one, and
            # are looked up afresh when asked for.
            self._found[id(value)] = None
            return None

    def item_numbers(self, items: list[Any]) -> frozenset[int]:
        """The integers of the items of ``items`` that equal some operand value."""
        known = self._items.get(id(items))
        if known is None:
            known = frozenset(self._numbers(items))
            self._items[id(items)] = known
        return known

    def _numbers(self, items: list[Any]) -> Iterator[int]:
        get = self._ids.get
        for item in items:
            kind = type(item)  # the common kinds inline: this runs once per item of a list
            number = get(item) if kind is int or kind is str else self.find(item)
            if number is not None:
                yield number

    def _find(self, value: Any, depth: int) -> int | None:
        kind = type(value)
        if kind is int or kind is str:
            return self._ids.get(value)
        if isinstance(value, list):
            shape: Key = ("l", len(value))
        elif isinstance(value, Mapping):
            shape = ("d", len(value))
        else:
            key = scalar_key(value)
            return None if key is None else self._ids.get(key)
        if shape not in self._shapes:
            return None  # no operand value has this kind and length
        known = self._found.get(id(value), -1)
        if known != -1:
            return known
        if depth == 0:
            raise _TooDeep  # nests deeper than the operands; nothing on the way is remembered
        number = self._compose(value, depth - 1)
        self._found[id(value)] = number
        return number

    def _compose(self, value: list[Any] | Mapping[Any, Any], depth: int) -> int | None:
        """The integer of a list or object whose kind and length some operand value has."""
        if isinstance(value, list):
            numbers = self._all(value, depth)
            return None if numbers is None else self._ids.get(("l", tuple(numbers)))
        numbers = self._all(value.values(), depth)
        return (
            None
            if numbers is None
            else self._ids.get(("d", frozenset(zip(value, numbers, strict=True))))
        )

    def _all(self, items: Iterable[Any], depth: int) -> list[int] | None:
        """The integers of all ``items``, or None as soon as one has none (nor has the whole)."""
        get = self._ids.get
        numbers: list[int] = []
        for item in items:
            kind = type(item)
            number = get(item) if kind is int or kind is str else self._find(item, depth)
            if number is None:
                return None
            numbers.append(number)
        return numbers
