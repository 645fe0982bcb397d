"""The spans of PostgreSQL's history partitions: boundaries, what to make, what may go."""

from __future__ import annotations

import datetime as dt

import pytest

from hookline.domain.ids import id_time, new_id
from hookline.domain.partition_plan import (
    AHEAD,
    Span,
    expired,
    floor_boundary,
    horizon,
    next_boundary,
    to_create,
)
from hookline.errors import ConfigError
from hookline.settings import Settings

DAY = 86400.0
# Monday 2026-12-07 00:00 UTC.
MONDAY = dt.datetime(2026, 12, 7, tzinfo=dt.UTC).timestamp()


def test_boundaries_are_utc_midnights_and_mondays() -> None:
    wednesday_noon = MONDAY + 2.5 * DAY
    assert floor_boundary(wednesday_noon, "day") == MONDAY + 2 * DAY
    assert next_boundary(wednesday_noon, "day") == MONDAY + 3 * DAY
    assert floor_boundary(wednesday_noon, "week") == MONDAY
    assert next_boundary(wednesday_noon, "week") == MONDAY + 7 * DAY
    assert floor_boundary(MONDAY, "week") == MONDAY  # a boundary is its own floor
    assert next_boundary(MONDAY, "day") == MONDAY + DAY
    assert horizon(MONDAY + 1, "day") == MONDAY + (1 + AHEAD["day"]) * DAY
    assert horizon(MONDAY + 1, "week") == MONDAY + 7 * DAY * (1 + AHEAD["week"])


def test_a_span_is_named_after_its_first_day_and_is_a_range_of_ids() -> None:
    span = Span(MONDAY, MONDAY + DAY)
    assert span.suffix == "p20261207"
    lower, upper = span.bounds("dlv")
    assert lower.startswith("dlv_") and lower < upper
    made = new_id("dlv", at=MONDAY + 3600, floor=True)
    assert lower <= made < upper
    assert id_time(lower) == MONDAY and id_time(upper) == MONDAY + DAY
    assert id_time(made) == MONDAY + 3600


def test_id_time_refuses_what_is_not_an_id() -> None:
    for bad in ("evt", "evt_123", "evt_" + "I" * 26, ""):
        with pytest.raises(ValueError):
            id_time(bad)


def test_nothing_yet_makes_contiguous_spans_from_the_boundary_before() -> None:
    made = to_create([], MONDAY + 5, MONDAY + 2 * DAY + 1, "day")
    assert made == [Span(MONDAY + n * DAY, MONDAY + (n + 1) * DAY) for n in range(3)]


def test_more_spans_continue_from_the_newest_and_reach_back_only_when_asked() -> None:
    existing = [Span(MONDAY, MONDAY + DAY), Span(MONDAY + DAY, MONDAY + 2 * DAY)]
    assert to_create(existing, MONDAY + DAY, MONDAY + 2 * DAY, "day") == []
    assert to_create(existing, MONDAY + DAY, MONDAY + 3 * DAY, "day") == [
        Span(MONDAY + 2 * DAY, MONDAY + 3 * DAY)
    ]
    back = to_create(existing, MONDAY - 1.5 * DAY, MONDAY + DAY, "day")
    assert back == [Span(MONDAY - 2 * DAY, MONDAY - DAY), Span(MONDAY - DAY, MONDAY)]


def test_switching_to_weeks_runs_the_next_span_to_the_monday_after() -> None:
    daily = [Span(MONDAY + 2 * DAY, MONDAY + 3 * DAY)]  # ends on Thursday
    made = to_create(daily, MONDAY + 2 * DAY, MONDAY + 8 * DAY, "week")
    assert made == [
        Span(MONDAY + 3 * DAY, MONDAY + 7 * DAY),
        Span(MONDAY + 7 * DAY, MONDAY + 14 * DAY),
    ]


def test_expired_spans_ended_before_the_cutoff() -> None:
    spans = [Span(MONDAY + n * DAY, MONDAY + (n + 1) * DAY) for n in (2, 0, 1)]
    assert expired(spans, MONDAY + 2 * DAY) == [spans[1], spans[2]]
    assert expired(spans, MONDAY + 2 * DAY - 1) == [spans[1]]


def test_the_partition_interval_setting_is_day_or_week() -> None:
    assert Settings.from_env({}).partitions == "day"
    assert Settings.from_env({"HOOKLINE_PARTITION_INTERVAL": "week"}).partitions == "week"
    with pytest.raises(ConfigError, match="HOOKLINE_PARTITION_INTERVAL"):
        Settings.from_env({"HOOKLINE_PARTITION_INTERVAL": "month"})
