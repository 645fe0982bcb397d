"""The sliding-window limiter behind sign-in attempts and failed bearer authentications."""

from __future__ import annotations

from hookline.domain.ratelimit import SlidingWindow


def test_attempts_are_counted_per_address_in_a_window() -> None:
    limiter = SlidingWindow(limit=3, window=60)
    assert [limiter.attempt("a", t) for t in (0, 1, 2)] == [0, 0, 0]
    assert limiter.attempt("a", 3) == 57
    assert limiter.attempt("b", 3) == 0
    assert limiter.attempt("a", 60.5) == 0  # the first attempt left the window


def test_wait_only_looks_and_record_only_counts() -> None:
    limiter = SlidingWindow(limit=2, window=60)
    assert limiter.wait("a", 0) == 0
    assert [limiter.wait("a", 1) for _ in range(5)] == [0] * 5  # looking counts nothing
    limiter.record("a", 10)
    assert limiter.wait("a", 11) == 0
    limiter.record("a", 20)
    assert limiter.wait("a", 30) == 40  # until the first failure leaves the window
    assert limiter.wait("a", 70) == 0
    assert limiter.wait("a", 80) == 0


def test_failures_recorded_past_the_limit_keep_the_wait_until_enough_leave() -> None:
    limiter = SlidingWindow(limit=2, window=60)
    for t in (0, 10, 20):  # three concurrent requests all failed
        limiter.record("a", t)
    assert limiter.wait("a", 30) == 40  # the second must leave too, at 70
    assert limiter.wait("a", 75) == 0
