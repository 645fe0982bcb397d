"""The versions of an event type's schema (which one is ``schema``, what setting it does, which
versions are valid) and how a payload's mismatch is named: pure rules."""

from __future__ import annotations

from typing import Any

import pytest

from hookline.domain.catalog_versions import (
    MAX_VERSIONS,
    from_columns,
    newest,
    schema_problem,
    version_problems,
    with_newest,
)
from hookline.domain.payload_schemas import Mismatch, compile_schema, mismatch

A: dict[str, Any] = {"type": "object"}
B: dict[str, Any] = {"type": "array"}
C: dict[str, Any] = {"type": "string"}


def test_the_newest_version_is_the_highest_number_not_the_last_key() -> None:
    assert newest(None) is None
    assert newest({}) is None
    assert newest({"1": A}) == A
    assert newest({"10": B, "9": A}) == B  # numbers, not text: "9" > "10" as text
    assert newest({"2": B, "1": A}) == B


def test_setting_schema_replaces_the_newest_version_or_creates_version_1() -> None:
    assert with_newest(None, A) == {"1": A}
    assert with_newest({}, A) == {"1": A}
    assert with_newest({"1": A, "2": B}, C) == {"1": A, "2": C}
    assert with_newest({"1": A, "2": B}, None) is None  # no schema: no versions
    before = {"1": A}
    with_newest(before, B)
    assert before == {"1": A}  # a new mapping; the given one is left alone


def test_what_the_api_sets_as_schema_is_what_it_shows() -> None:
    for schemas in (None, {"1": A}, {"3": A, "7": B}):
        for schema in (C, None):
            assert newest(with_newest(schemas, schema)) == schema


def test_an_entry_stored_before_versions_reads_as_version_1() -> None:
    assert from_columns(A, None) == {"1": A}
    assert from_columns(A, {}) == {"1": A}
    assert from_columns(None, None) is None
    assert from_columns(A, {"1": B, "2": A}) == {"1": B, "2": A}


@pytest.mark.parametrize("key", ["0", "-1", "01", "1.0", "one", "", " 1", "\u0661"])
def test_a_version_is_a_positive_integer_written_plainly(key: str) -> None:
    assert version_problems({key: A}) == [
        (f"schemas.{key}", 'a version is a positive integer such as "1" or "2"')
    ]


def test_every_version_must_be_a_valid_schema_of_its_draft() -> None:
    draft_07 = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}
    assert version_problems({"1": A, "2": draft_07, "12": B}) == []
    found = version_problems({"1": A, "2": {"type": 5}, "3": [1], "4": {"$schema": 5}})
    assert [field for field, _ in found] == ["schemas.2", "schemas.3", "schemas.4"]
    assert found[1][1] == "a schema is a JSON object"
    # draft-04's exclusiveMaximum is a boolean; 2020-12's, a number.
    draft_04 = "http://json-schema.org/draft-04/schema#"
    assert schema_problem({"$schema": draft_04, "maximum": 3, "exclusiveMaximum": True}) is None
    assert schema_problem({"maximum": 3, "exclusiveMaximum": True}) is not None


def test_the_number_of_versions_is_bounded() -> None:
    many = {str(n): A for n in range(1, MAX_VERSIONS + 2)}
    assert [field for field, _ in version_problems(many)] == ["schemas"]


def test_a_mismatch_names_the_path_of_the_value_at_fault() -> None:
    schema = {
        "type": "object",
        "required": ["order"],
        "properties": {
            "order": {
                "type": "object",
                "properties": {
                    "total": {"type": "number"},
                    "items": {"type": "array", "items": {"type": "integer"}},
                },
            }
        },
    }
    check = compile_schema(schema)
    assert mismatch(check, {"order": {"total": 3, "items": [1, 2]}}) is None
    found = mismatch(check, {"order": {"total": "abc"}})
    assert found == Mismatch("payload.order.total", "'abc' is not of type 'number'")
    assert str(found) == "payload.order.total: 'abc' is not of type 'number'"
    found = mismatch(check, {"order": {"items": [1, "x"]}}, "events.4.payload")
    assert found is not None and found.path == "events.4.payload.order.items.1"
    assert mismatch(check, {}) == Mismatch("payload", "'order' is a required property")


def test_a_reference_reaches_into_the_schema_only() -> None:
    local = compile_schema({"$defs": {"n": {"type": "number"}}, "$ref": "#/$defs/n"})
    assert mismatch(local, 1) is None
    assert mismatch(local, "x") is not None
    remote = compile_schema({"$ref": "https://schemas.example.com/order.json"})
    found = mismatch(remote, {})
    assert found is not None and found.path == "payload"
    assert "https://schemas.example.com/order.json" in found.message
