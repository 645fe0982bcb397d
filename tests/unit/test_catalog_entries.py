"""What an entry of either catalog may be, and how a replacement or a partial update changes it
(pure: no store)."""

from __future__ import annotations

from typing import Any

import pytest

from hookline.domain.models import SHARED_CATALOG
from hookline.errors import ValidationFailed
from hookline.services.catalog_entries import EventTypeDraft, changed, check_draft, new_event_type

A: dict[str, Any] = {"type": "object"}
B: dict[str, Any] = {"type": "object", "required": ["id"]}


def fields(draft: EventTypeDraft, *, shared: bool = False) -> list[str | None]:
    with pytest.raises(ValidationFailed) as caught:
        check_draft(draft, shared=shared)
    return [p.field for p in caught.value.problems]


def test_a_new_entry_takes_its_versions_from_schema_or_schemas() -> None:
    made = new_event_type("ws_1", EventTypeDraft("a.b", schema=A, example={}), 5.0)
    assert (made.schemas, made.schema, made.created_at) == ({"1": A}, A, 5.0)
    made = new_event_type(SHARED_CATALOG, EventTypeDraft("a.b", schemas={"1": A, "2": B}), 5.0)
    assert (made.schemas, made.schema) == ({"1": A, "2": B}, B)
    assert new_event_type("ws_1", EventTypeDraft("a.b"), 5.0).schemas is None


def test_a_draft_reports_every_problem_at_once() -> None:
    bad = EventTypeDraft(
        "bad name", schemas={"x": A, "2": {"type": 3}}, feature_flags=("ok", "not ok"),
        group_name="",
    )  # fmt: skip
    assert fields(bad) == ["name", "schemas.x", "schemas.2", "feature_flags", "group_name"]
    assert fields(EventTypeDraft("a.b", schema=A, schemas={"1": A})) == ["schema"]
    assert fields(EventTypeDraft("a.b", schemas={"1": B}, example={})) == ["example"]
    check_draft(EventTypeDraft("a.b", schemas={"1": B, "2": A}, example={}))  # the newest


def test_names_differ_between_the_catalogs() -> None:
    assert fields(EventTypeDraft("a..b")) == ["name"]
    check_draft(EventTypeDraft("a..b"), shared=True)  # Svix's rule
    check_draft(EventTypeDraft("job:done/v2"))  # Hookline's
    assert fields(EventTypeDraft("job:done/v2"), shared=True) == ["name"]
    assert fields(EventTypeDraft("a" * 201), shared=True) == ["name"]


def test_an_update_changes_only_what_it_names() -> None:
    current = new_event_type("ws_1", EventTypeDraft("a.b", "d", schemas={"1": A, "2": A}), 1.0)
    updated = changed(current, {"schema": B, "enforce": True}, 2.0)
    assert (updated.schemas, updated.schema, updated.enforce) == ({"1": A, "2": B}, B, True)
    assert (updated.description, updated.updated_at, updated.id) == ("d", 2.0, current.id)
    cleared = changed(updated, {"schema": None, "description": None, "feature_flags": None}, 3.0)
    assert (cleared.schemas, cleared.schema, cleared.description) == (None, None, "")
    assert cleared.feature_flags == () and cleared.enforce is True
    with pytest.raises(ValidationFailed) as caught:
        changed(updated, {"example": {}}, 3.0)  # B requires an id
    assert caught.value.field == "example"
    with pytest.raises(ValidationFailed) as caught:
        changed(updated, {"schema": A, "schemas": {"1": A}}, 3.0)
    assert caught.value.field == "schema"
