"""The sample event a webhook is tested and previewed with (``hookline.domain.samples``)."""

from __future__ import annotations

from typing import Any

from hookline.domain.models import EventType
from hookline.domain.samples import FALLBACK_TYPE, Sample, fallback_payload, sample_event


def _type(name: str, example: Any = None) -> EventType:
    return EventType("et_" + name, "ws_1", name, "", None, example, 0.0, 0.0)


CATALOG = [_type("job.failed", {"jobId": 1}), _type("job.succeeded"), _type("order.paid")]


def test_the_first_exact_type_with_its_catalog_example() -> None:
    catalog = [*CATALOG, _type("user.created", {"id": "u"})]
    assert sample_event(["user.created", "job.*"], catalog) == Sample("user.created", {"id": "u"})


def test_patterns_pick_the_first_catalog_type_with_an_example() -> None:
    assert sample_event(["job.*"], CATALOG) == Sample("job.failed", {"jobId": 1})
    # An exact type without an example gives way to a later candidate that has one.
    assert sample_event(["order.paid", "job.*"], CATALOG) == Sample("job.failed", {"jobId": 1})


def test_a_given_type_and_payload_are_used_as_given() -> None:
    assert sample_event(["*"], CATALOG, type="job.failed") == Sample("job.failed", {"jobId": 1})
    given = sample_event(["*"], CATALOG, type="x.y", payload=[1])
    assert given == Sample("x.y", [1])
    assert sample_event(["order.paid"], CATALOG, payload={"a": 1}) == Sample("order.paid", {"a": 1})


def test_without_an_example_the_payload_is_the_documented_fallback() -> None:
    made_up = sample_event(["order.paid"], CATALOG)
    assert made_up == Sample("order.paid", fallback_payload("order.paid"), invented="payload")
    assert made_up.payload == {
        "type": "order.paid",
        "test": True,
        "message": "Test event from Hookline",
    }


def test_without_any_type_the_fallback_type_is_used() -> None:
    assert sample_event(["*"], []) == Sample(
        FALLBACK_TYPE, fallback_payload(FALLBACK_TYPE), invented="type"
    )
    assert sample_event(["nothing.*"], CATALOG, payload={"a": 1}) == Sample(
        FALLBACK_TYPE, {"a": 1}, invented="type"
    )


def test_hooklines_own_types_are_only_chosen_when_named() -> None:
    catalog = [_type("hookline.webhook.disabled", {"id": 1})]
    assert sample_event(["*"], catalog).invented == "type"
    assert sample_event(["hookline.*"], catalog) == Sample("hookline.webhook.disabled", {"id": 1})
