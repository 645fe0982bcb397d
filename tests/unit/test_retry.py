"""Unit and property tests for hookline.domain.retry: schedule, Retry-After, decide, throttling."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookline.domain.retry import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_SCHEDULE,
    MAX_RETRY_AFTER,
    AdaptiveRate,
    Decision,
    Outcome,
    TokenBucket,
    decide,
    parse_retry_after,
    retry_delay,
)

NOW = datetime(2015, 10, 21, 7, 28, tzinfo=UTC).timestamp()


def test_default_schedule() -> None:
    assert DEFAULT_SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    assert DEFAULT_MAX_ATTEMPTS == len(DEFAULT_SCHEDULE)
    assert MAX_RETRY_AFTER == 6 * 3600


# retry_delay


@pytest.mark.parametrize(("attempt", "expected"), list(enumerate(DEFAULT_SCHEDULE)))
def test_delay_without_jitter_reads_the_schedule(attempt: int, expected: float) -> None:
    assert retry_delay(attempt, jitter=0) == expected


def test_delay_after_attempt_1_is_the_delay_before_attempt_2() -> None:
    assert retry_delay(1, jitter=0) == 5
    assert retry_delay(2, jitter=0) == 300


def test_last_entry_repeats() -> None:
    assert retry_delay(50, (1, 2, 3), jitter=0) == 3


def test_jitter_is_reproducible_with_an_rng() -> None:
    first = retry_delay(3, rng=random.Random(7))
    assert first == retry_delay(3, rng=random.Random(7))
    assert first != 1800  # jittered
    assert 1620 <= first <= 1980


def test_zero_stays_zero_and_negative_entries_are_zero() -> None:
    assert retry_delay(0, jitter=1.0) == 0
    assert retry_delay(0, (-5, 1)) == 0


@pytest.mark.parametrize(
    ("attempt", "schedule", "jitter"),
    [(-1, DEFAULT_SCHEDULE, 0.1), (1, (), 0.1), (1, DEFAULT_SCHEDULE, -0.1), (1, (1,), 1.5)],
)
def test_delay_rejects_bad_arguments(
    attempt: int, schedule: tuple[float, ...], jitter: float
) -> None:
    with pytest.raises(ValueError):
        retry_delay(attempt, schedule, jitter=jitter)


@given(
    attempt=st.integers(0, 100),
    schedule=st.lists(st.floats(-10, 1e6), min_size=1, max_size=10),
    jitter=st.floats(0, 1),
    seed=st.integers(0, 2**32),
)
def test_delay_stays_within_the_jitter_band(
    attempt: int, schedule: list[float], jitter: float, seed: int
) -> None:
    base = max(schedule[min(attempt, len(schedule) - 1)], 0.0)
    delay = retry_delay(attempt, schedule, jitter=jitter, rng=random.Random(seed))
    assert delay >= 0
    assert base * (1 - jitter) - 1e-6 <= delay <= base * (1 + jitter) + 1e-6


# parse_retry_after


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-5", 0.0),
        ("99999999", MAX_RETRY_AFTER),
        ("Wed, 21 Oct 2015 07:30:00 GMT", 120.0),
        ("Wed, 21 Oct 2015 07:30:00 -0000", 120.0),
        ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),  # in the past
        ("Wed, 21 Oct 2016 07:28:00 GMT", MAX_RETRY_AFTER),
    ],
)
def test_parse_retry_after(header: str, expected: float) -> None:
    assert parse_retry_after(header, now=NOW) == expected


@pytest.mark.parametrize(
    "header", [None, "", "soon", "1e3", "12s", "0x10", "Wed, 21 Oct 99999 07:28:00 GMT", "nan"]
)
def test_parse_retry_after_garbage(header: str | None) -> None:
    assert parse_retry_after(header, now=NOW) is None


@given(st.text())
def test_parse_retry_after_never_raises_and_is_bounded(header: str) -> None:
    seconds = parse_retry_after(header, now=NOW)
    assert seconds is None or 0 <= seconds <= MAX_RETRY_AFTER


@given(st.integers(-(10**6), 10**6))
def test_http_date_round_trips(offset: int) -> None:
    header = format_datetime(datetime.fromtimestamp(NOW + offset, UTC), usegmt=True)
    assert parse_retry_after(header, now=NOW) == min(max(offset, 0), MAX_RETRY_AFTER)


# decide


def _decide(
    status: int | None,
    error_class: str | None = None,
    *,
    attempt: int = 1,
    max_attempts: int = 8,
    schedule: tuple[float, ...] = DEFAULT_SCHEDULE,
    retry_after: float | None = None,
) -> Decision:
    return decide(
        status=status,
        error_class=error_class,
        attempt=attempt,
        max_attempts=max_attempts,
        schedule=schedule,
        retry_after=retry_after,
        rng=random.Random(0),
    )


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_succeeds(status: int) -> None:
    assert _decide(status) == Decision(Outcome.SUCCEEDED, 0.0, f"HTTP {status}")


def test_2xx_succeeds_even_on_the_last_attempt() -> None:
    assert _decide(200, attempt=8).outcome is Outcome.SUCCEEDED


def test_410_disables_the_webhook() -> None:
    assert _decide(410) == Decision(Outcome.DISABLE, 0.0, "HTTP 410 Gone")


@pytest.mark.parametrize("error_class", ["blocked", "invalid_request"])
def test_permanent_errors_fail_at_once(error_class: str) -> None:
    assert _decide(None, error_class) == Decision(Outcome.FAILED, 0.0, error_class)


@pytest.mark.parametrize(
    ("status", "error_class", "reason"),
    [
        (500, None, "HTTP 500"),
        (301, None, "HTTP 301"),
        (404, None, "HTTP 404"),
        (429, None, "HTTP 429"),
        (None, "timeout", "timeout"),
        (None, "dns", "dns"),
        (None, "connect", "connect"),
        (None, "tls", "tls"),
        (None, "protocol", "protocol"),
        (None, None, "unknown error"),
    ],
)
def test_everything_else_is_retried_on_schedule(
    status: int | None, error_class: str | None, reason: str
) -> None:
    decision = _decide(status, error_class, attempt=2, schedule=(0, 10, 100))
    assert decision.outcome is Outcome.RETRY
    assert decision.reason == reason
    assert 90 <= decision.delay <= 110


def test_max_attempts_fails() -> None:
    decision = _decide(500, attempt=8, max_attempts=8)
    assert decision == Decision(Outcome.FAILED, 0.0, "max attempts reached (HTTP 500)")
    assert _decide(None, "timeout", attempt=9, max_attempts=8).outcome is Outcome.FAILED


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_replaces_the_schedule(status: int) -> None:
    assert _decide(status, attempt=1, retry_after=42.0).delay == 42.0
    assert _decide(status, attempt=1, retry_after=-3.0).delay == 0.0
    assert _decide(status, attempt=1, retry_after=10**9).delay == MAX_RETRY_AFTER


@pytest.mark.parametrize(("status", "retry_after"), [(500, 42.0), (503, float("nan"))])
def test_retry_after_is_ignored_unless_429_or_503(status: int, retry_after: float) -> None:
    decision = _decide(status, retry_after=retry_after, schedule=(0, 7))
    assert decision.delay == pytest.approx(7, rel=0.1)


def test_retry_after_does_not_extend_max_attempts() -> None:
    assert _decide(429, attempt=8, retry_after=1.0).outcome is Outcome.FAILED


def test_attempt_numbers_start_at_1() -> None:
    with pytest.raises(ValueError):
        _decide(500, attempt=0)


@given(
    status=st.none() | st.integers(100, 599),
    error_class=st.none() | st.sampled_from(["timeout", "dns", "blocked", "invalid_request"]),
    attempt=st.integers(1, 20),
    max_attempts=st.integers(1, 20),
    retry_after=st.none() | st.floats(allow_nan=True),
)
def test_decide_is_total_and_consistent(
    status: int | None,
    error_class: str | None,
    attempt: int,
    max_attempts: int,
    retry_after: float | None,
) -> None:
    decision = _decide(
        status, error_class, attempt=attempt, max_attempts=max_attempts, retry_after=retry_after
    )
    assert 0 <= decision.delay <= max(MAX_RETRY_AFTER, max(DEFAULT_SCHEDULE) * 1.1)
    assert decision.reason
    if decision.outcome is Outcome.RETRY:
        assert attempt < max_attempts
        assert error_class not in ("blocked", "invalid_request")
    else:
        assert decision.delay == 0.0
    if status is not None and 200 <= status < 300:
        assert decision.outcome is Outcome.SUCCEEDED


def test_outcome_values() -> None:
    assert [o.value for o in Outcome] == ["succeeded", "retry", "failed", "disable"]
    assert Outcome("retry") is Outcome.RETRY


# TokenBucket


def test_bucket_spaces_concurrent_reservations() -> None:
    bucket = TokenBucket(rate=10)
    waits = [bucket.reserve(100.0) for _ in range(4)]
    assert waits == pytest.approx([0.0, 0.1, 0.2, 0.3])


def test_bucket_refills_over_time() -> None:
    bucket = TokenBucket(rate=2)
    assert bucket.reserve(0.0) == 0.0
    assert bucket.reserve(0.0) == pytest.approx(0.5)
    assert bucket.reserve(1.0) == 0.0  # sends at 0, 0.5 and 1.0
    assert bucket.reserve(1.0) == pytest.approx(0.5)
    assert bucket.reserve(1.2) == pytest.approx(0.8)  # queued behind the one at 1.5


def test_bucket_burst() -> None:
    bucket = TokenBucket(rate=1, burst=3)
    assert [bucket.reserve(0.0) for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]
    assert bucket.reserve(100.0) == 0.0  # full again, but never above the burst
    assert bucket.reserve(100.0) == 0.0
    assert bucket.reserve(100.0) == 0.0
    assert bucket.reserve(100.0) == 1.0


def test_bucket_set_rate() -> None:
    bucket = TokenBucket(rate=1)
    bucket.reserve(0.0)
    bucket.set_rate(4)
    assert bucket.rate == 4
    assert bucket.reserve(0.0) == pytest.approx(0.25)


def test_bucket_clock_going_backwards_stands_still() -> None:
    bucket = TokenBucket(rate=1)
    bucket.reserve(10.0)
    assert bucket.reserve(5.0) == pytest.approx(1.0)


@pytest.mark.parametrize(("rate", "burst"), [(0, None), (-1, None), (float("nan"), None), (1, 0.5)])
def test_bucket_rejects_bad_arguments(rate: float, burst: float | None) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)


@given(
    rate=st.floats(0.1, 1000),
    burst=st.integers(1, 5),
    gaps=st.lists(st.floats(0, 2), min_size=1, max_size=60),
)
def test_bucket_never_exceeds_its_rate(rate: float, burst: int, gaps: list[float]) -> None:
    bucket, now, sends = TokenBucket(rate, burst), 0.0, []
    for gap in gaps:
        now += gap
        wait = bucket.reserve(now)
        assert wait >= 0
        sends.append(now + wait)
    sends.sort()
    # In any window [sends[i], sends[j]] at most burst + rate * width requests go out.
    for i in range(len(sends)):
        for j in range(i, len(sends)):
            assert j - i + 1 <= burst + rate * (sends[j] - sends[i]) + 1e-6


# AdaptiveRate


def test_unlimited_until_throttled() -> None:
    adaptive = AdaptiveRate(None)
    assert adaptive.rate is None
    adaptive.on_success(0.0)
    adaptive.on_success(5.0)
    assert adaptive.rate is None


def test_throttle_halves_the_ceiling_once_per_second() -> None:
    adaptive = AdaptiveRate(10)
    assert adaptive.rate == 10
    adaptive.on_throttle(0.0)
    assert adaptive.rate == 5
    adaptive.on_throttle(0.5)  # same burst of 429s
    assert adaptive.rate == 5
    adaptive.on_throttle(1.0)
    assert adaptive.rate == 2.5


def test_throttle_never_goes_below_the_floor() -> None:
    adaptive = AdaptiveRate(4, floor=1.5)
    for second in range(10):
        adaptive.on_throttle(float(second))
    assert adaptive.rate == 1.5


def test_a_ceiling_below_the_floor_wins() -> None:
    adaptive = AdaptiveRate(0.1)
    adaptive.on_throttle(0.0)
    assert adaptive.rate == 0.1


def test_success_raises_the_rate_once_per_second_up_to_the_ceiling() -> None:
    adaptive = AdaptiveRate(10, initial=7)
    adaptive.on_success(0.0)  # starts the clock
    assert adaptive.rate == 7
    adaptive.on_success(0.5)
    assert adaptive.rate == 7
    adaptive.on_success(1.0)
    assert adaptive.rate == 8
    adaptive.on_success(1.2)
    assert adaptive.rate == 8
    for second in range(2, 10):
        adaptive.on_success(float(second))
    assert adaptive.rate == 10


def test_increase_waits_a_second_after_a_throttle() -> None:
    adaptive = AdaptiveRate(10, increase=2)
    adaptive.on_throttle(0.0)
    adaptive.on_success(0.5)
    assert adaptive.rate == 5
    adaptive.on_success(1.0)
    assert adaptive.rate == 7


def test_throttle_from_unlimited_starts_from_the_observed_rate() -> None:
    adaptive = AdaptiveRate(None)
    for i in range(40):  # 20 responses a second for two seconds
        adaptive.on_success(i * 0.05)
    adaptive.on_throttle(2.0)
    assert adaptive.rate == pytest.approx(10, rel=0.1)


def test_returns_to_unlimited_past_twice_the_throttled_rate() -> None:
    adaptive = AdaptiveRate(None, increase=1)
    adaptive.on_throttle(0.0)  # one response observed: 1/s, cut to the floor
    assert adaptive.rate == 0.5
    adaptive.on_success(1.0)
    assert adaptive.rate == 1.5
    adaptive.on_success(2.0)
    assert adaptive.rate is None


def test_initial_without_ceiling_is_provisional() -> None:
    adaptive = AdaptiveRate(None, initial=2)
    assert adaptive.rate == 2
    for second in range(5):
        adaptive.on_success(float(second))
    assert adaptive.rate is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ceiling": 0},
        {"ceiling": None, "floor": 0},
        {"ceiling": None, "increase": 0},
        {"ceiling": None, "decrease": 1},
        {"ceiling": None, "decrease": 0},
        {"ceiling": None, "initial": -1},
    ],
)
def test_adaptive_rejects_bad_arguments(kwargs: dict[str, float | None]) -> None:
    with pytest.raises(ValueError):
        AdaptiveRate(**kwargs)  # type: ignore[arg-type]


@given(
    ceiling=st.none() | st.floats(0.01, 1000),
    events=st.lists(st.tuples(st.booleans(), st.floats(0, 3)), max_size=80),
)
def test_adaptive_rate_stays_in_bounds(
    ceiling: float | None, events: list[tuple[bool, float]]
) -> None:
    adaptive, now = AdaptiveRate(ceiling), 0.0
    floor = min(0.5, ceiling or 0.5)
    for throttled, gap in events:
        now += gap
        before = adaptive.rate
        (adaptive.on_throttle if throttled else adaptive.on_success)(now)
        rate = adaptive.rate
        if ceiling is not None:
            assert rate is not None
        if rate is not None:
            assert floor <= rate <= (ceiling or float("inf"))
        if throttled and before is not None and rate is not None:
            assert rate <= before
