"""The success/failure chart drawn from counts per bucket (``dashboard.charts.stacked``), as the
portal draws an endpoint's health, and its axis ticks (``every``)."""

from __future__ import annotations

from hookline.dashboard.charts import chart, every, stacked
from hookline.domain.models import Delivery, DeliveryStatus

HOUR, DAY = 3600.0, 86_400.0
T0 = 1_800_000_000.0 - 1_800_000_000.0 % DAY  # a midnight, UTC


def test_bars_stack_failures_on_successes_scaled_to_the_peak() -> None:
    drawn = stacked([(T0, 3, 1), (T0 + HOUR, 0, 0), (T0 + 2 * HOUR, 0, 2)], width=300, height=120)
    assert (drawn.peak, drawn.total, drawn.width, drawn.height) == (4, 6, 300, 120)
    scale = (120 - 20) / 4
    ok, bad, last_bad = drawn.bars  # empty bars are left out
    assert (ok.kind, ok.x, ok.width, ok.height, ok.y) == ("ok", 1, 98, 3 * scale, 120 - 3 * scale)
    assert (bad.kind, bad.height, bad.y) == ("bad", scale, 120 - 4 * scale)
    assert (last_bad.kind, last_bad.x, last_bad.height) == ("bad", 201, 2 * scale)
    assert ok.title.endswith(": 3 succeeded, 1 failed")


def test_an_empty_window_draws_no_bar() -> None:
    drawn = stacked([(T0 + i * HOUR, 0, 0) for i in range(24)])
    assert (drawn.bars, drawn.peak, drawn.total) == ([], 0, 0)
    assert len(drawn.ticks) == 4
    assert stacked([]).bars == []


def test_default_ticks_are_every_sixth_bucket_from_the_first() -> None:
    drawn = stacked([(T0 + (i + 1) * HOUR, 1, 0) for i in range(24)], width=240)
    assert drawn.ticks == [(0.0, "01:00"), (60.0, "07:00"), (120.0, "13:00"), (180.0, "19:00")]


def test_ticks_on_round_times() -> None:
    six_hourly = [(T0 - 6 * HOUR + i * 6 * HOUR, 0, 1) for i in range(28)]
    drawn = stacked(six_hourly, width=280, tick=every(DAY, "%d %b"))
    assert [x for x, _ in drawn.ticks] == [10.0 * i for i in range(1, 28, 4)]
    assert len({label for _, label in drawn.ticks}) == 7
    hours = every(6 * HOUR, "%H:%M")
    assert (hours(T0 + 6 * HOUR), hours(T0 + HOUR), hours(T0)) == ("06:00", None, "00:00")


def test_the_deliveries_chart_is_the_stacked_chart_of_its_counts() -> None:
    now = T0 + 4 * HOUR - 1

    def made(at: float, status: DeliveryStatus) -> Delivery:
        return Delivery("d", "ws", "e", "wh", status, 1, 0, at, None, None, at, at)

    found = [
        made(T0 + 10, DeliveryStatus.SUCCEEDED),
        made(T0 + 20, DeliveryStatus.FAILED),
        made(T0 + 2 * HOUR, DeliveryStatus.SUCCEEDED),
        made(T0 + 2 * HOUR, DeliveryStatus.PENDING),  # not finished: left out
        made(T0 - 1, DeliveryStatus.FAILED),  # before the window
    ]
    drawn = chart(found, now=now, span=4 * HOUR, count=4, width=400)
    counts = [(T0, 1, 1), (T0 + HOUR, 0, 0), (T0 + 2 * HOUR, 1, 0), (T0 + 3 * HOUR, 0, 0)]
    assert drawn == stacked(counts, width=400)
