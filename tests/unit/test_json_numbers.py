"""A JSON boolean is not a number, and a request's date-time is RFC 3339 text, never a number."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from hookline.domain.json_numbers import MESSAGE
from hookline.domain.models import FlowConfig, WebhookConfig
from hookline.wire.schemas import ReplayIn


@pytest.mark.parametrize(
    "fields",
    [
        {"max_attempts": True},
        {"timeout_seconds": False},
        {"aggregation_max_events": True},
        {"rate_limit_per_second": True},
        {"retry_schedule": [1, True]},
    ],
)
def test_a_boolean_is_refused_where_a_number_belongs(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match=MESSAGE):
        WebhookConfig(name="x", url="http://a.example", **fields)


def test_numbers_and_booleans_keep_their_places() -> None:
    hook = WebhookConfig(
        name="x", url="http://a.example", max_attempts=3, retry_schedule=[1, 2.5], enabled=False
    )
    assert (hook.max_attempts, hook.retry_schedule, hook.enabled) == (3, [1, 2.5], False)
    assert FlowConfig(aggregation_seconds=0).aggregation_seconds == 0
    with pytest.raises(ValidationError, match=MESSAGE):
        FlowConfig(aggregation_seconds=False)


@pytest.mark.parametrize("since", [0.5, 1700000000, "0.5", " 1e9 "])
def test_a_date_time_is_never_a_number(since: object) -> None:
    with pytest.raises(ValidationError, match="RFC 3339"):
        ReplayIn(since=since)


def test_a_date_time_is_rfc_3339_text() -> None:
    replay = ReplayIn(since="2024-05-01T12:00:00Z")
    assert replay.since == datetime(2024, 5, 1, 12, tzinfo=UTC)
