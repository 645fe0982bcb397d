"""Retry schedule, Retry-After handling and per-webhook throttling.

Pure decision code: nothing here sleeps, reads a clock or touches the network. The worker
passes in the facts (status or error class of an attempt, the current time) and acts on the
answer: :func:`decide` what follows an attempt, :func:`retry_delay` from the schedule with
jitter (so deliveries that failed together do not all return at once), a bounded
:func:`parse_retry_after`; :class:`TokenBucket` spaces out requests to one webhook and
:class:`AdaptiveRate` lowers that rate while the receiver answers 429 (AIMD).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from datetime import UTC
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Final

from hookline.domain.records import record

#: Delay before attempt 1, 2, 3, ...: immediate, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_SCHEDULE: Final[tuple[float, ...]] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
DEFAULT_MAX_ATTEMPTS: Final = 8
#: The longest ``Retry-After`` we honour, in seconds.
MAX_RETRY_AFTER: Final[float] = 6 * 3600

# Retrying cannot help these: the destination is forbidden or the request cannot be built
# (``template_too_large``: the same event renders the same oversized body every time).
_PERMANENT_ERRORS: Final = frozenset({"blocked", "invalid_request", "template_too_large"})
_HONOURS_RETRY_AFTER: Final = frozenset({429, 503})
_DELTA_SECONDS: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_ONE_SECOND: Final = 1.0


def retry_delay(
    attempt: int,
    schedule: Sequence[float] = DEFAULT_SCHEDULE,
    *,
    jitter: float = 0.1,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt ``attempt + 1``, once attempt ``attempt`` (1-based) failed.

    That is ``schedule[attempt]``, the last entry repeating when the schedule is shorter,
    scaled by a random factor in ``[1 - jitter, 1 + jitter]``. Never negative; 0 stays 0.
    """
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0, got {attempt}")
    if not schedule:
        raise ValueError("the retry schedule is empty")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError(f"jitter must be between 0 and 1, got {jitter}")
    base = max(float(schedule[min(attempt, len(schedule) - 1)]), 0.0)
    if base == 0.0 or jitter == 0.0:
        return base
    uniform = rng.uniform if rng is not None else random.uniform
    return max(0.0, base * (1.0 + uniform(-jitter, jitter)))


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header, or None if absent or garbage.

    The header holds delta-seconds (``120``) or an HTTP-date; ``now`` is the current Unix
    time (``time.time()``), needed for the latter. A date in the past gives 0, and the result
    is bounded by :data:`MAX_RETRY_AFTER`.
    """
    if value is None:
        return None
    text = value.strip()
    seconds = float(text) if _DELTA_SECONDS.fullmatch(text) else _seconds_until(text, now)
    return None if seconds is None else _bound(seconds)


def _seconds_until(http_date: str, now: float) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
        if when.tzinfo is None:  # "-0000": UTC, local offset unknown (RFC 5322 §3.3)
            when = when.replace(tzinfo=UTC)
        return when.timestamp() - now
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _bound(seconds: float) -> float:
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class Outcome(StrEnum):
    """What becomes of a delivery after one attempt."""

    SUCCEEDED = "succeeded"
    RETRY = "retry"
    FAILED = "failed"
    DISABLE = "disable"  # fail the delivery for good and disable the webhook


@record
class Decision:
    """The verdict on one attempt: outcome, delay before the next attempt, and why."""

    outcome: Outcome
    delay: float = 0.0
    reason: str = ""


def decide(
    *,
    status: int | None,
    error_class: str | None,
    attempt: int,
    max_attempts: int,
    schedule: Sequence[float] = DEFAULT_SCHEDULE,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> Decision:
    """Decide what follows attempt number ``attempt`` (1-based) of a delivery.

    * any 2xx: SUCCEEDED;
    * 410 Gone: DISABLE, the receiver asked us to stop;
    * error class ``blocked`` (refused by SSRF protection), ``invalid_request`` or
      ``template_too_large`` (the body template would render more than the size limit): FAILED;
    * anything else (3xx, 4xx, 5xx, timeouts, dns/connect/tls/protocol errors): RETRY after
      :func:`retry_delay`, or FAILED once ``attempt >= max_attempts``. On 429 and 503 a
      ``retry_after`` (seconds, see :func:`parse_retry_after`) replaces the schedule's delay.
    """
    if attempt < 1:
        raise ValueError(f"attempt numbers start at 1, got {attempt}")
    if status is not None and 200 <= status < 300:
        return Decision(Outcome.SUCCEEDED, reason=f"HTTP {status}")
    if status == 410:
        return Decision(Outcome.DISABLE, reason="HTTP 410 Gone")
    cause = f"HTTP {status}" if status is not None else error_class or "unknown error"
    if error_class in _PERMANENT_ERRORS:
        return Decision(Outcome.FAILED, reason=cause)
    if attempt >= max_attempts:
        return Decision(Outcome.FAILED, reason=f"max attempts reached ({cause})")
    if status in _HONOURS_RETRY_AFTER and retry_after is not None and not math.isnan(retry_after):
        return Decision(Outcome.RETRY, _bound(retry_after), cause)
    return Decision(Outcome.RETRY, retry_delay(attempt, schedule, rng=rng), cause)


def _positive(value: float, name: str) -> float:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive number, got {value}")
    return value


class TokenBucket:
    """Spaces out the requests to one webhook: ``rate`` per second, bursts of ``burst``.

    The bucket holds up to ``burst`` tokens (default 1, i.e. strict spacing) and refills at
    ``rate`` tokens per second. :meth:`reserve` takes a token, even one not refilled yet: the
    bucket then goes negative and the caller learns how long to wait for its token. Callers
    reserving concurrently thus queue up ``1 / rate`` apart instead of all waking at once. A
    caller unwilling to wait that long passes ``max_wait`` and leaves the token for others.
    Times are monotonic seconds from the caller; a clock going backwards stands still.
    """

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self._rate = _positive(rate, "rate")
        self._burst = 1.0 if burst is None else burst
        if not self._burst >= 1.0:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self._tokens = self._burst
        self._updated: float | None = None

    @property
    def rate(self) -> float:
        """Tokens added per second."""
        return self._rate

    def set_rate(self, rate: float) -> None:
        """Change the rate; the time since the last reservation refills at the new rate."""
        self._rate = _positive(rate, "rate")

    def reserve(self, now: float, max_wait: float = math.inf) -> float:
        """Take a token; return the seconds to wait before sending (0 if one was available).

        If that wait exceeds ``max_wait`` no token is taken: a token held by a caller that gives
        up would delay every later caller for nothing.
        """
        if self._updated is None:
            self._updated = now
        elapsed = max(0.0, now - self._updated)
        self._updated = max(self._updated, now)
        self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
        wait = 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self._rate
        if wait <= max_wait:
            self._tokens -= 1.0
        return wait


class _RateMeter:
    """Counts responses in one-second windows: how fast we were actually sending."""

    def __init__(self) -> None:
        self._start: float | None = None
        self._count = 0
        self._previous = 0.0

    def record(self, now: float) -> None:
        if self._start is None or now - self._start >= _ONE_SECOND:
            if self._start is not None:
                self._previous = self._count / (now - self._start)
            self._start, self._count = now, 0
        self._count += 1

    def rate(self) -> float:
        # A window still open holds at least ``count`` events per second.
        return max(self._previous, float(self._count))


class AdaptiveRate:
    """Additive-increase / multiplicative-decrease of a webhook's send rate, driven by 429s.

    ``ceiling`` is the configured limit in requests per second, or None. The rate starts at
    ``initial`` (default: the ceiling; None means unlimited). :meth:`on_throttle` multiplies
    it by ``decrease``, never below ``floor``, at most once per second: the 429s of requests
    already in flight report the same overload. It starts from the current rate, or when
    unlimited from the rate observed over the last second. :meth:`on_success` adds
    ``increase``, at most once per second, up to the ceiling. Without a ceiling, the rate
    returns to unlimited once it climbs past twice the rate the last cut started from (or
    twice ``initial`` before any cut).
    """

    def __init__(
        self,
        ceiling: float | None,
        *,
        floor: float = 0.5,
        increase: float = 1.0,
        decrease: float = 0.5,
        initial: float | None = None,
    ) -> None:
        if ceiling is not None:
            _positive(ceiling, "ceiling")
        if not 0.0 < decrease < 1.0:
            raise ValueError(f"decrease must be between 0 and 1, got {decrease}")
        self._ceiling = ceiling
        # A ceiling below the floor (one request per 10 s, say) wins over the floor.
        self._floor = min(_positive(floor, "floor"), ceiling or math.inf)
        self._increase = _positive(increase, "increase")
        self._decrease = decrease
        self._rate = ceiling if initial is None else self._clamp(_positive(initial, "initial"))
        # Without a ceiling, a limited rate is provisional: see on_success.
        self._unlimited_above = math.inf if ceiling or initial is None else 2.0 * initial
        self._last_increase: float | None = None
        self._last_throttle: float | None = None
        self._meter = _RateMeter()

    @property
    def rate(self) -> float | None:
        """Requests per second to allow now; None means unlimited."""
        return self._rate

    def on_success(self, now: float) -> None:
        """Record a response that was not a 429; maybe raise the rate by ``increase``."""
        self._meter.record(now)
        if self._last_increase is None:
            self._last_increase = now  # the first response starts the clock
        if self._rate is None or now - self._last_increase < _ONE_SECOND:
            return
        self._last_increase = now
        raised = self._rate + self._increase
        self._rate = None if raised > self._unlimited_above else self._clamp(raised)

    def on_throttle(self, now: float) -> None:
        """Record a 429; cut the rate by ``decrease`` unless already cut in the last second."""
        self._meter.record(now)
        if self._last_throttle is not None and now - self._last_throttle < _ONE_SECOND:
            return
        self._last_throttle = self._last_increase = now
        base = self._rate if self._rate is not None else self._meter.rate()
        if self._ceiling is None:
            self._unlimited_above = 2.0 * base
        self._rate = self._clamp(base * self._decrease)

    def _clamp(self, rate: float) -> float:
        return max(self._floor, min(rate, self._ceiling or math.inf))
