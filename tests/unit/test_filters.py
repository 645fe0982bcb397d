"""Unit and property tests for hookline.domain.filters."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hookline
from hookline.domain.filters import MAX_DEPTH, MAX_NODES, Filter, compile_filter, validate_filter
from hookline.errors import FilterError


def matches(spec: Any, payload: Any) -> bool:
    return compile_filter(spec).matches(payload)


PAYLOAD: dict[str, Any] = {
    "type": "job.completed",
    "status": "failed",
    "n": 3,
    "ratio": 0.5,
    "flag": True,
    "nothing": None,
    "tags": ["a", "b"],
    "pairs": [[1, 2], [3]],
    "data": {"output": {"id": 7}, "items": [{"id": "x"}, {"id": "y"}]},
}


def test_seed_example_selects_outputs_3_and_7() -> None:
    selected = compile_filter({"output_id": {"$in": [3, 7]}})
    assert [i for i in range(10) if selected.matches({"output_id": i})] == [3, 7]


def test_compiled_filters_are_filters() -> None:
    assert isinstance(compile_filter({"a": 1}), Filter)
    assert isinstance(compile_filter(None), Filter)


@pytest.mark.parametrize("payload", [PAYLOAD, None, 3, "x", [], {}])
def test_null_and_empty_filters_match_everything(payload: Any) -> None:
    assert matches(None, payload)
    assert matches({}, payload)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # implicit equality and $eq
        ({"status": "failed"}, True),
        ({"status": "ok"}, False),
        ({"n": 3.0}, True),
        ({"flag": 1}, False),  # true is not 1
        ({"n": True}, False),
        ({"nothing": None}, True),
        ({"missing": None}, False),
        ({"data.output.id": 7}, True),
        ({"data.output": {"id": 7}}, True),  # a plain object is exact equality
        ({"data.output": {"id": 7, "x": 1}}, False),
        ({"data": {"output": {"id": 7}}}, False),  # not a nested filter
        ({"data.items.1.id": "y"}, True),
        ({"data.items.2.id": "y"}, False),
        ({"data.items.x": "y"}, False),
        ({"status.0": "f"}, False),  # strings are not lists
        ({"status": {"$eq": "failed"}}, True),
        ({"tags": "a"}, True),  # a list contains the operand
        ({"tags": ["a", "b"]}, True),  # or equals it
        ({"tags": ["b", "a"]}, False),
        ({"pairs": [3]}, True),
        ({"pairs": 3}, False),  # only one level deep
        # $ne
        ({"status": {"$ne": "ok"}}, True),
        ({"tags": {"$ne": "a"}}, False),
        ({"missing": {"$ne": 1}}, True),
        # $in / $nin
        ({"n": {"$in": [1, 2, 3]}}, True),
        ({"n": {"$in": []}}, False),
        ({"tags": {"$in": ["z", "b"]}}, True),
        ({"flag": {"$in": [1]}}, False),
        ({"n": {"$nin": [1, 2]}}, True),
        ({"tags": {"$nin": ["b"]}}, False),
        ({"missing": {"$nin": [1]}}, True),
        ({"missing": {"$in": [None]}}, False),
        # comparisons
        ({"n": {"$gt": 2}}, True),
        ({"n": {"$gt": 3}}, False),
        ({"n": {"$gte": 3}}, True),
        ({"n": {"$lt": 3.5}}, True),
        ({"n": {"$lte": 2}}, False),
        ({"n": {"$gt": 1, "$lte": 5}}, True),
        ({"n": {"$gt": 1, "$lte": 2}}, False),
        ({"status": {"$gt": "e"}}, True),
        ({"status": {"$lt": "e"}}, False),
        ({"n": {"$gt": "1"}}, False),  # numbers compare with numbers only
        ({"status": {"$lt": 5}}, False),
        ({"flag": {"$gte": 0}}, False),  # a boolean is not a number
        ({"tags": {"$gt": "a"}}, False),
        ({"missing": {"$lt": 10}}, False),
        # $exists
        ({"nothing": {"$exists": True}}, True),
        ({"missing": {"$exists": True}}, False),
        ({"missing": {"$exists": False}}, True),
        ({"data.output.x": {"$exists": False}}, True),
        ({"status.deeper": {"$exists": False}}, True),
        # $prefix
        ({"type": {"$prefix": "job."}}, True),
        ({"type": {"$prefix": "user."}}, False),
        ({"n": {"$prefix": "3"}}, False),
        ({"missing": {"$prefix": ""}}, False),
        # logic
        ({"$or": [{"status": "ok"}, {"n": 3}]}, True),
        ({"$or": [{"status": "ok"}, {"n": 4}]}, False),
        ({"$and": [{"status": "failed"}, {"n": 3}]}, True),
        ({"$and": [{"status": "failed"}, {"n": 4}]}, False),
        ({"$not": {"status": "failed"}}, False),
        ({"n": {"$not": {"$gt": 5}}}, True),
        ({"missing": {"$not": {"$gt": 5}}}, True),
        ({"n": {"$or": [{"$lt": 0}, {"$gt": 2}]}}, True),
        ({"data": {"$and": [{"output.id": 7}, {"items.0.id": "x"}]}}, True),
        ({"status": "failed", "$or": [{"n": 1}, {"tags": "b"}]}, True),
        ({"status": "failed", "n": {"$gt": 5}}, False),
    ],
)
def test_operators(spec: dict[str, Any], expected: bool) -> None:
    assert matches(spec, PAYLOAD) is expected


def test_root_operators_apply_to_the_payload_itself() -> None:
    assert matches({"$gt": 5}, 6)
    assert not matches({"$gt": 5}, {"n": 6})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([{"a": 1}], "must be a JSON object, not list"),
        ("status", "must be a JSON object, not str"),
        ({"$foo": 1}, "filter: unknown operator '$foo'"),
        ({"a": {"$regex": "x"}}, "a: unknown operator '$regex'"),
        ({"a": {"$in": 3}}, "a.$in expects a list"),
        ({"a": {"$nin": "ab"}}, "a.$nin expects a list"),
        ({"a": {"$exists": 1}}, "a.$exists expects true or false"),
        ({"a": {"$prefix": 1}}, "a.$prefix expects a string"),
        ({"a": {"$gt": {}}}, "a.$gt expects a number or a string"),
        ({"a": {"$lte": True}}, "a.$lte expects a number or a string"),
        ({"a": {"$lt": None}}, "a.$lt expects a number or a string"),
        ({"a": {"$gte": [1]}}, "a.$gte expects a number or a string"),
        ({"$or": []}, r"\$or expects a non-empty list of filters"),
        ({"$and": {"a": 1}}, r"\$and expects a non-empty list of filters"),
        ({"$or": [{"a": 1}, 2]}, r"\$or\[1\] expects a filter object"),
        ({"$not": 3}, r"\$not expects a filter or an operator object"),
        ({"a": {"$not": [1]}}, r"a.\$not expects a filter or an operator object"),
        ({"a..b": 1}, "'a..b' is not a path"),
        ({".a": 1}, "'.a' is not a path"),
        ({"": 1}, "'' is not a path"),
        ({"a": {"$gt": 1, "b": 2}}, "a: mixes operators with plain keys"),
        ({1: 2}, "keys must be strings"),
        ({"x": {"$and": [{"y": {"$bad": 1}}]}}, r"x.\$and\[0\].y: unknown operator '\$bad'"),
        ({"$or": [{"a": {"$in": 1}}]}, r"\$or\[0\].a.\$in expects a list"),
    ],
)
def test_errors(spec: Any, message: str) -> None:
    pattern = message if "\\" in message else message.replace("$", r"\$")
    with pytest.raises(FilterError, match=pattern):
        compile_filter(spec)
    with pytest.raises(FilterError):
        validate_filter(spec)


def _nested(depth: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"a": 1}
    for _ in range(depth - 1):
        spec = {"$not": spec}
    return spec


def test_depth_limit() -> None:
    validate_filter(_nested(MAX_DEPTH))
    with pytest.raises(FilterError, match="more than 32 levels"):
        validate_filter(_nested(MAX_DEPTH + 1))


def test_depth_limit_counts_operands_and_catches_cycles() -> None:
    deep: list[Any] = []
    for _ in range(40):
        deep = [deep]
    with pytest.raises(FilterError, match="levels deep"):
        validate_filter({"a": {"$eq": deep}})
    cyclic: dict[str, Any] = {}
    cyclic["a"] = cyclic
    with pytest.raises(FilterError, match="levels deep"):
        validate_filter(cyclic)


def test_validate_filter_accepts_valid_specs() -> None:
    validate_filter(None)
    validate_filter({"n": {"$gt": 1, "$lte": 5}, "$or": [{"a": 1}, {"b": {"$exists": False}}]})


def test_operator_like_keys_in_operands_are_literal() -> None:
    assert matches({"a": {"$eq": {"$gt": 1}}}, {"a": {"$gt": 1}})
    assert matches({"a": {"$in": [{"$x": 1}]}}, {"a": {"$x": 1}})


def test_empty_object_condition_is_equality() -> None:
    assert matches({"a": {}}, {"a": {}})
    assert not matches({"a": {}}, {"a": {"b": 1}})


def test_large_list_indexes_and_unicode_digits_do_not_raise() -> None:
    payload = {"items": [1, 2]}
    assert not matches({"items.99999999999999999999": 1}, payload)
    assert not matches({"items.²": 1}, payload)
    assert not matches({"items.\u0661": 1}, payload)


# properties

KEYS = ["a", "b", "c", "0", "1"]
keys = st.sampled_from(KEYS)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-2, 2)
    | st.sampled_from([0.0, 1.0, 1.5, -0.5])
    | st.sampled_from(["", "x", "xy", "y"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)
paths = st.lists(keys, min_size=1, max_size=3).map(".".join)
comparables = st.integers(-2, 2) | st.sampled_from([0.5, "", "x", "y"])
operator_objects = st.one_of(
    json_values.map(lambda v: {"$eq": v}),
    json_values.map(lambda v: {"$ne": v}),
    st.lists(json_values, max_size=3).map(lambda v: {"$in": v}),
    st.lists(json_values, max_size=3).map(lambda v: {"$nin": v}),
    st.tuples(st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), comparables).map(
        lambda t: {t[0]: t[1]}
    ),
    st.booleans().map(lambda v: {"$exists": v}),
    st.sampled_from(["", "x"]).map(lambda v: {"$prefix": v}),
)
field_filters = st.builds(lambda path, cond: {path: cond}, paths, operator_objects | scalars)


def _extend(inner: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    parts = st.lists(inner, min_size=1, max_size=3)
    return st.one_of(
        parts.map(lambda fs: {"$and": fs}),
        parts.map(lambda fs: {"$or": fs}),
        inner.map(lambda f: {"$not": f}),
        st.builds(lambda path, f: {path: {"$not": f}}, paths, operator_objects),
        st.dictionaries(paths, operator_objects | scalars, max_size=3),
    )


filters = st.recursive(field_filters | st.just({}), _extend, max_leaves=6)
payloads = st.dictionaries(keys, json_values, max_size=4) | json_values


@given(filters, payloads)
def test_not_negates(spec: dict[str, Any], payload: Any) -> None:
    assert matches({"$not": spec}, payload) is (not matches(spec, payload))


@given(st.lists(filters, min_size=1, max_size=3), payloads)
def test_and_or_are_all_and_any(specs: list[dict[str, Any]], payload: Any) -> None:
    results = [matches(spec, payload) for spec in specs]
    assert matches({"$and": specs}, payload) is all(results)
    assert matches({"$or": specs}, payload) is any(results)


@given(filters, filters, payloads)
def test_de_morgan(first: dict[str, Any], second: dict[str, Any], payload: Any) -> None:
    either = matches({"$not": {"$or": [first, second]}}, payload)
    assert either is matches({"$and": [{"$not": first}, {"$not": second}]}, payload)


@given(paths, json_values, payloads)
def test_implicit_equality_is_eq(path: str, value: Any, payload: Any) -> None:
    assert matches({path: value}, payload) is matches({path: {"$eq": value}}, payload)
    assert matches({path: {"$ne": value}}, payload) is not matches({path: value}, payload)


@given(paths, scalars, payloads)
def test_in_one_scalar_is_eq(path: str, value: Any, payload: Any) -> None:
    assert matches({path: {"$in": [value]}}, payload) is matches({path: {"$eq": value}}, payload)


@given(paths, st.lists(json_values, max_size=4), payloads)
def test_nin_negates_in(path: str, values: list[Any], payload: Any) -> None:
    assert matches({path: {"$nin": values}}, payload) is not matches(
        {path: {"$in": values}}, payload
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@given(scalars, comparables)
def test_comparisons_split_comparable_values(value: Any, operand: Any) -> None:
    payload = {"a": value}
    lt, lte, gt, gte = (
        matches({"a": {op: operand}}, payload) for op in ("$lt", "$lte", "$gt", "$gte")
    )
    same_kind = (isinstance(value, str) and isinstance(operand, str)) or (
        _is_number(value) and _is_number(operand)
    )
    if not same_kind:
        assert not (lt or lte or gt or gte)
        return
    assert lt is not gte
    assert gt is not lte
    assert gte is (gt or matches({"a": operand}, payload))


any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text() | keys, inner),
    max_leaves=20,
)


@given(filters, any_json)
def test_matching_never_raises(spec: dict[str, Any], payload: Any) -> None:
    assert matches(spec, payload) in (True, False)


# equality: the same answers as pairwise comparison, in linear time


def _same(a: Any, b: Any) -> bool:
    """JSON equality by comparing the two values: the definition matching must keep."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    return (a is None and b is None) or (isinstance(a, str) and isinstance(b, str) and a == b)


def _in_by_comparison(value: Any, operands: list[Any]) -> bool:
    items = value if isinstance(value, list) else ()
    return any(_same(value, op) or any(_same(item, op) for item in items) for op in operands)


equality_scalars = (
    st.none()
    | st.booleans()
    | st.sampled_from([0, 1, -1, 2, 0.0, -0.0, 1.0, 2.5, math.nan, math.inf, 2**64])
    | st.floats()
    | st.sampled_from(["", "1", "x", "true"])
)
equality_values = st.recursive(
    equality_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=10,
)


@given(st.lists(equality_values, max_size=6), equality_values)
def test_in_answers_as_comparing_every_pair_would(operands: list[Any], value: Any) -> None:
    expected = _in_by_comparison(value, operands)
    assert matches({"a": {"$in": operands}}, {"a": value}) is expected
    assert matches({"a": {"$nin": operands}}, {"a": value}) is not expected
    if operands:
        first = _in_by_comparison(value, operands[:1])
        assert matches({"a": operands[0]}, {"a": value}) is first
        assert matches({"a": {"$eq": operands[0]}}, {"a": value}) is first


@pytest.mark.parametrize(
    ("operand", "value", "expected"),
    [
        (1, 1.0, True),
        (-0.0, 0, True),
        (2**64, float(2**64), True),
        (True, 1, False),
        (1, True, False),
        (False, 0, False),
        (None, None, True),
        ([1, True], [1.0, True], True),
        ([1, True], [True, 1], False),
        ({"a": 1, "b": [0]}, {"b": [0.0], "a": 1.0}, True),
        ({"a": 1}, {"a": 1, "b": 1}, False),
        ([[1]], [[1]], True),
        ([[1]], [[1, 1]], False),
        (math.nan, math.nan, False),  # NaN equals nothing, itself included
        ([math.nan], [math.nan], False),
    ],
)
def test_json_equality_edge_cases(operand: Any, value: Any, expected: bool) -> None:
    assert matches({"a": {"$in": [operand]}}, {"a": value}) is expected
    assert matches({"a": {"$in": [operand]}}, {"a": [value]}) is expected  # a list holding it


def test_values_nested_deeper_than_any_operand_match_none_and_never_raise() -> None:
    deep: Any = 1
    for _ in range(5000):
        deep = [deep]
    assert not matches({"a": [[1]]}, {"a": deep})
    assert not matches({"a": {"$in": [[[1]], 1]}}, {"a": [deep, deep[0], [0]]})
    assert matches({"a.0.0.0": [[1]]}, {"a": [[[[[1]]]]]})


class _TooManySteps(Exception):
    pass


def _steps(run: Callable[[], object], limit: int) -> int:
    """Lines of Hookline's code executed while ``run`` runs: a count of the work done that
    does not depend on the machine. Past ``limit`` it stops ``run`` with an error, so that a
    quadratic matcher fails fast instead of running for minutes."""
    root = str(Path(hookline.__file__).parent)
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
            if count > limit:
                raise _TooManySteps(f"more than {limit} lines")
        return local

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename.startswith(root) else None

    sys.settrace(tracer)
    try:
        run()
    finally:
        sys.settrace(None)
    return count


def test_in_against_a_list_costs_their_sum_not_their_product() -> None:
    # 6,000 operands against 6,000 items: 36 million comparisons pairwise.
    selected = compile_filter({"a": {"$in": list(range(6000, 12000))}})
    answers: list[bool] = []
    _steps(lambda: answers.append(selected.matches({"a": list(range(6000))})), limit=6 * 12_000)
    assert answers == [False]


def test_size_limit_at_creation() -> None:
    at_limit = {"a": {"$in": list(range(MAX_NODES - 5))}}  # object, key, object, key, list
    validate_filter(at_limit)
    over = {"a": {"$in": list(range(MAX_NODES - 4))}}
    with pytest.raises(FilterError, match=f"filter has {MAX_NODES + 1} values, more than the"):
        validate_filter(over)
    assert compile_filter(over).matches({"a": 7})  # a stored filter still loads and matches


def test_path_segments_count_towards_the_size_limit() -> None:
    path = ".".join(["a"] * (MAX_NODES - 2))  # object, its key's segments, the value
    validate_filter({path: 1})
    with pytest.raises(FilterError, match="more than the"):
        validate_filter({path + ".a": 1})


_MIB = 1024 * 1024


def _encoded(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def _widest(make: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
    """The largest filter ``make(n)`` builds within the size limit."""
    n = 1
    while True:
        try:
            validate_filter(make(2 * n))
        except FilterError:
            break
        n *= 2
    low, high = n, 2 * n  # make(low) is valid, make(high) is not
    while high - low > 1:
        middle = (low + high) // 2
        try:
            validate_filter(make(middle))
            low = middle
        except FilterError:
            high = middle
    return make(low)


def _nested_list(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


# The payloads a 1 MiB body can carry with the most values for a filter to look at, and the
# filters the limits allow that make matching look at all of them, as often as they can.
_WORST_CASES = {
    # half a million numbers, against as many $in conditions as fit
    "numbers": (
        {"a": [0] * (_MIB // 2 - 4)},
        _widest(lambda n: {"$or": [{"a": {"$in": [i + 1]}} for i in range(n)]}),
    ),
    # a quarter of a million one-item lists, each compared as a whole to a list operand
    "lists": (
        {"a": [[0] for _ in range(_MIB // 4 - 4)]},
        _widest(lambda n: {"$or": [{"a": {"$in": [[i + 1]]}} for i in range(n)]}),
    ),
    # lists nested 120 deep against an operand nested as deep as the limit allows
    "depth": (
        {"a": [_nested_list(120) for _ in range(_MIB // 242 - 1)]},
        {"a": {"$in": [_nested_list(MAX_DEPTH - 3)]}},
    ),
    # objects of the same keys as an object operand
    "objects": (
        {"a": [{"k": 0, "v": 0} for _ in range(_MIB // 14 - 1)]},
        _widest(lambda n: {"$or": [{"a": {"$in": [{"k": 1, "v": i}]}} for i in range(n)]}),
    ),
    # the same nested list reached through as many paths as fit
    "paths": (
        {"a": _nested_list(120)},
        _widest(lambda n: {"$or": [{"a" + ".0" * k: {"$in": [[[1]]]}} for k in range(1, n + 1)]}),
    ),
}


@pytest.mark.parametrize("case", sorted(_WORST_CASES))
def test_the_worst_case_the_limits_allow_is_linear_in_the_payload(case: str) -> None:
    payload, spec = _WORST_CASES[case]
    assert _encoded(payload) <= _MIB
    validate_filter(spec)
    selected = compile_filter(spec)
    answers: list[bool] = []
    # At most a dozen lines or so per value of the payload and per value of the filter (its
    # paths are walked): comparing pairwise would take a payload's worth per operand.
    limit = 16 * _count_values(payload) + 8 * MAX_NODES
    _steps(lambda: answers.append(selected.matches(payload)), limit=limit)
    assert answers == [False]


def _count_values(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(map(_count_values, value.values()))
    if isinstance(value, list):
        return 1 + sum(map(_count_values, value))
    return 1
