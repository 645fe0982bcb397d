"""What one worker holds: round robin over webhooks, caps in flight, stale deliveries set aside."""

from __future__ import annotations

from hookline.delivery.holding import Holding
from hookline.domain.models import Claimed
from tests.unit.claims import T0
from tests.unit.claims import claimed as _claimed


def _ids(taken: list[Claimed | None]) -> list[str | None]:
    return [None if c is None else c.delivery.id for c in taken]


def test_webhooks_take_turns_and_each_stays_under_its_cap() -> None:
    holding = Holding(stale_after=60)
    holding.add([_claimed("a", n) for n in range(3)] + [_claimed("b", n) for n in range(2)], T0)
    assert (holding.total, holding.held["a"], holding.held["b"]) == (5, 3, 2)
    taken = [holding.take(lambda _: 1, T0) for _ in range(3)]
    # a, then b, then nothing: both are at their cap of one request in flight.
    assert _ids(taken) == ["dlv_a_0", "dlv_b_0", None]
    assert holding.in_flight == {"a": 1, "b": 1}
    holding.finish("b")
    assert _ids([holding.take(lambda _: 1, T0)]) == ["dlv_b_1"]
    holding.finish("a")
    assert _ids([holding.take(lambda _: 1, T0), holding.take(lambda _: 1, T0)]) == [
        "dlv_a_1",
        None,
    ]
    assert holding.total == 3  # two finished, three still held (in flight or waiting)


def test_a_delivery_that_waited_too_long_is_set_aside_not_started() -> None:
    holding = Holding(stale_after=30)
    holding.add([_claimed("a", 0), _claimed("a", 1)], T0)
    holding.add([_claimed("a", 2)], T0 + 20)
    # 31 s later the first two could see their lease end mid-request: given back instead.
    assert _ids([holding.take(lambda _: 10, T0 + 31)]) == ["dlv_a_2"]
    assert holding.take_stale() == ["dlv_a_0", "dlv_a_1"]
    assert holding.take_stale() == []
    assert (holding.total, holding.held["a"], holding.in_flight["a"]) == (1, 1, 1)


def test_clear_returns_what_never_started_and_keeps_what_is_in_flight() -> None:
    holding = Holding(stale_after=30)
    holding.add([_claimed("a", n) for n in range(3)], T0)
    assert _ids([holding.take(lambda _: 10, T0)]) == ["dlv_a_0"]
    holding.add([_claimed("b", 0)], T0 - 40)
    assert holding.take(lambda w: 0 if w == "a" else 10, T0) is None  # b is stale, a capped
    assert holding.clear() == ["dlv_a_1", "dlv_a_2", "dlv_b_0"]
    assert (holding.total, dict(holding.held), dict(holding.in_flight)) == (1, {"a": 1}, {"a": 1})
    holding.finish("a")
    assert holding.total == 0
    assert not holding.held and not holding.in_flight
