"""Entity events, pure: paths, kinds, update masks, changes and the payload envelope."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from hookline.domain.entities import (
    Change,
    EntityState,
    Labels,
    default_kind,
    envelope,
    iso_time,
    next_time,
    parse_path,
    remove,
    resolve_labels,
    same_json,
    update_mask,
    upsert,
)
from hookline.domain.presets import JOB_EVENT_TYPES, entity_event_types

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
LABELS = Labels("packet", "pipelinesPackets", "org-1")


def _state(properties: dict[str, Any], at: float = T0, created: float = T0) -> EntityState:
    return EntityState(properties, LABELS, created, at)


# -- paths and kinds -----------------------------------------------------------------------


def test_parse_path_splits_collection_and_id() -> None:
    p = parse_path("pipelinesPackets/p1/comments/c9")
    assert (p.path, p.collection_path, p.entity_id) == (
        "pipelinesPackets/p1/comments/c9",
        "pipelinesPackets/p1/comments",
        "c9",
    )
    assert p.collection == "comments"
    assert parse_path("packets/p1").collection_path == "packets"


@pytest.mark.parametrize(
    "raw",
    ["packets", "packets/p1/comments", "", "packets//p1", "/packets/p1", "packets/p1/", "a/..",
     "a/b\nc", "x/" + "y" * 1024],
)  # fmt: skip
def test_parse_path_refuses_what_is_not_collection_slash_id(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_path(raw)


@pytest.mark.parametrize(
    ("collection", "kind"),
    [
        ("pipelinesPackets", "packet"),
        ("comments", "comment"),
        ("packets", "packet"),
        ("pipelineLabels", "label"),
        ("users", "user"),
        ("entities", "entity"),
        ("addresses", "address"),
        ("boxes", "box"),
        ("status", "status"),
        ("HTTPRequests", "request"),
        ("pipeline_stages", "stage"),
        ("data", "data"),
    ],
)
def test_default_kind_is_the_last_word_singular(collection: str, kind: str) -> None:
    assert default_kind(collection) == kind


def test_default_kind_needs_a_word() -> None:
    with pytest.raises(ValueError, match="give 'kind'"):
        default_kind("123")


def test_labels_given_then_remembered_then_defaults() -> None:
    path = parse_path("pipelinesPackets/p1/comments/c9")
    fresh = resolve_labels(
        path, None, kind=None, entity_key=None, organization_id=None, default_organization="ws1"
    )
    assert fresh == Labels("comment", "comments", "ws1")
    remembered = _state({}, T0)
    kept = resolve_labels(
        path, remembered, kind=None, entity_key=None, organization_id=None, default_organization="x"
    )
    assert kept == LABELS
    given = resolve_labels(
        path,
        remembered,
        kind="packetComment",
        entity_key="flows/comments",
        organization_id="org-9",
        default_organization="x",
    )
    assert given == Labels("packetComment", "flows/comments", "org-9")


def test_bad_kind_is_refused() -> None:
    path = parse_path("packets/p1")
    with pytest.raises(ValueError, match="not a kind"):
        resolve_labels(
            path, None, kind="no spaces", entity_key=None, organization_id=None,
            default_organization="ws",
        )  # fmt: skip


# -- update masks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "mask"),
    [
        ({"a": 1}, {"a": 1}, []),
        ({"a": 1}, {"a": 2}, ["a"]),
        ({"a": 1}, {"a": 1, "b": 2}, ["b"]),  # added
        ({"a": 1, "b": 2}, {"a": 1}, ["b"]),  # removed
        ({"a": 1}, {"a": 1.0}, []),  # JSON numbers
        ({"a": 1}, {"a": True}, ["a"]),  # a boolean is not a number
        ({"a": None}, {}, ["a"]),  # null is a value, absence is not
        ({"s": "x", "z": 1, "b": 1}, {"s": "y", "z": 2, "b": 2}, ["b", "s", "z"]),  # sorted
        ({"addr": {"city": "A", "zip": "1"}}, {"addr": {"city": "B", "zip": "1"}}, ["addr.city"]),
        ({"addr": {"city": "A"}}, {"addr": {"city": "A", "geo": {"lat": 1}}}, ["addr.geo"]),
        ({"addr": {"geo": {"lat": 1}}}, {"addr": {"geo": {"lat": 2}}}, ["addr.geo.lat"]),
        ({"addr": {"city": "A"}}, {"addr": "A"}, ["addr"]),  # object became a value
        ({"tags": [1, 2]}, {"tags": [2, 1]}, ["tags"]),  # a list is one value
        ({"tags": [{"a": 1}]}, {"tags": [{"a": 1.0}]}, []),
        ({"a.b": 1}, {"a.b": 2}, ["`a.b`"]),  # a dotted key is quoted
        ({"replies": []}, {"replies": [{"content": "hi"}]}, ["replies"]),
    ],
)
def test_update_mask(old: dict[str, Any], new: dict[str, Any], mask: list[str]) -> None:
    assert update_mask(old, new) == mask


def test_same_json() -> None:
    assert same_json({"a": [1, {"b": None}]}, {"a": [1.0, {"b": None}]})
    assert not same_json(0, False)
    assert not same_json("1", 1)
    assert not same_json({"a": 1}, {"a": 1, "b": 1})


# -- changes -------------------------------------------------------------------------------


def test_first_state_is_created() -> None:
    change = upsert(None, {"name": "p"}, LABELS, T0)
    assert change is not None
    assert (change.operation, change.old, change.mask) == ("created", None, None)
    assert change.new == EntityState({"name": "p"}, LABELS, T0, T0)
    assert change.event_type == "packet.created"


def test_same_properties_change_nothing() -> None:
    assert upsert(_state({"name": "p"}), {"name": "p"}, LABELS, T0 + 5) is None


def test_update_keeps_create_time_and_carries_the_old_state() -> None:
    old = _state({"name": "p", "n": 1}, T0 + 1)
    change = upsert(old, {"name": "p", "n": 2}, LABELS, T0 + 5)
    assert change is not None
    assert (change.operation, change.old, change.mask) == ("updated", old, ["n"])
    assert change.new == EntityState({"name": "p", "n": 2}, LABELS, T0, T0 + 5)


def test_soft_remove_is_a_delete_that_keeps_the_entity() -> None:
    old = _state({"content": "hi", "softRemoved": False})
    change = upsert(old, {"content": "hi", "softRemoved": True}, LABELS, T0 + 5)
    assert change is not None
    assert (change.operation, change.event_type, change.mask) == ("deleted", "packet.deleted", None)
    assert change.new is not None and change.new.soft_removed
    # Editing it while removed, or restoring it, are updates.
    again = upsert(change.new, {"content": "edited", "softRemoved": True}, LABELS, T0 + 6)
    assert again is not None and again.operation == "updated"
    restored = upsert(change.new, {"content": "hi", "softRemoved": False}, LABELS, T0 + 6)
    assert restored is not None and restored.operation == "updated"
    assert restored.mask == ["softRemoved"]


def test_remove_forgets_a_known_entity_only() -> None:
    old = _state({"a": 1})
    assert remove(old, LABELS) == Change("deleted", LABELS, old, None, None)
    assert remove(None, LABELS) is None


def test_update_times_strictly_increase_even_when_the_clock_does_not() -> None:
    assert next_time(T0 + 0.1234567, None) == round(T0 + 0.1234567, 6)
    later = next_time(T0, T0)
    assert later > T0 and iso_time(later) == "2026-01-01T00:00:00.000001Z"
    old = _state({"a": 1}, T0 + 10)
    change = upsert(old, {"a": 2}, LABELS, T0)  # a clock that went back
    assert change is not None and change.new is not None
    assert change.new.updated_at > old.updated_at


# -- the envelope --------------------------------------------------------------------------


def test_envelope_of_an_update_matches_the_guide() -> None:
    path = parse_path("pipelinesPackets/p1")
    old = _state({"status": "open"}, T0 + 1)
    change = upsert(old, {"status": "done"}, LABELS, T0 + 2)
    assert change is not None
    assert envelope(path, change, T0 + 2) == {
        "eventTimestamp": "2026-01-01T00:00:02.000000Z",
        "operationType": "updated",
        "entityPath": "pipelinesPackets/p1",
        "entityId": "p1",
        "entityKey": "pipelinesPackets",
        "collectionPath": "pipelinesPackets",
        "organizationId": "org-1",
        "data": {
            "value": {
                "key": "pipelinesPackets/p1",
                "properties": {"status": "done"},
                "createTime": "2026-01-01T00:00:00.000000Z",
                "updateTime": "2026-01-01T00:00:02.000000Z",
            },
            "oldValue": {
                "key": "pipelinesPackets/p1",
                "properties": {"status": "open"},
                "createTime": "2026-01-01T00:00:00.000000Z",
                "updateTime": "2026-01-01T00:00:01.000000Z",
            },
            "updateMask": ["status"],
        },
    }


def test_envelope_of_create_and_delete() -> None:
    path = parse_path("pipelinesPackets/p1/comments/c9")
    created = upsert(None, {"content": "hi"}, LABELS, T0)
    assert created is not None
    data = envelope(path, created, T0)["data"]
    assert data["oldValue"] is None and data["updateMask"] is None
    assert data["value"]["key"] == "pipelinesPackets/p1/comments/c9"
    assert created.new is not None
    deleted = envelope(path, Change("deleted", LABELS, created.new, None, None), T0 + 1)
    assert deleted["operationType"] == "deleted"
    assert deleted["collectionPath"] == "pipelinesPackets/p1/comments"
    assert deleted["data"]["value"] is None
    assert deleted["data"]["oldValue"]["properties"] == {"content": "hi"}


# -- catalog entries -----------------------------------------------------------------------


def test_entity_event_types_have_schemas_their_examples_satisfy() -> None:
    specs = entity_event_types("comment", "pipelinesPackets/p1/comments")
    assert [s.name for s in specs] == ["comment.created", "comment.updated", "comment.deleted"]
    for spec in specs:
        jsonschema.Draft202012Validator.check_schema(spec.schema)
        jsonschema.validate(spec.example, spec.schema, cls=jsonschema.Draft202012Validator)
        assert spec.example["collectionPath"] == "pipelinesPackets/p1/comments"
    updated = specs[1].example
    assert updated["data"]["updateMask"] == ["status"]
    assert updated["data"]["oldValue"]["properties"]["status"] == "open"


def test_entity_schema_refuses_the_wrong_operation() -> None:
    created, updated, _ = entity_event_types("packet")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(updated.example, created.schema)


def test_job_event_types() -> None:
    assert [s.name for s in JOB_EVENT_TYPES] == ["job.succeeded", "job.failed"]
    for spec in JOB_EVENT_TYPES:
        jsonschema.Draft202012Validator.check_schema(spec.schema)
        jsonschema.validate(spec.example, spec.schema)
        assert {"jobId", "jobStatus", "outputId", "flowId"} <= spec.example.keys()
