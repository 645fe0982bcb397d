"""Delivery statistics and the success/failure chart, computed from records (pure).

The chart is drawn server-side as inline SVG: stacked bars per time bucket, so the page needs
no JavaScript charting library.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from hookline.domain.models import Delivery, DeliveryStatus
from hookline.domain.timefmt import iso


@dataclass(frozen=True, slots=True)
class Summary:
    """A webhook's recent deliveries at a glance."""

    total: int
    succeeded: int
    failed: int
    pending: int
    last_at: float | None
    last: Delivery | None

    @property
    def success_rate(self) -> float | None:
        finished = self.succeeded + self.failed
        return None if finished == 0 else self.succeeded / finished

    @property
    def failing(self) -> bool:
        """The latest delivery failed for good, or is being retried after a failure."""
        last = self.last
        if last is None:
            return False
        retrying = last.status is DeliveryStatus.PENDING and last.attempts > 0
        return last.status is DeliveryStatus.FAILED or retrying


def summarize(deliveries: Sequence[Delivery]) -> Summary:
    """``deliveries`` newest first, as the store lists them."""
    counts = {status: 0 for status in DeliveryStatus}
    for d in deliveries:
        counts[d.status] += 1
    last = deliveries[0] if deliveries else None
    return Summary(
        total=len(deliveries),
        succeeded=counts[DeliveryStatus.SUCCEEDED],
        failed=counts[DeliveryStatus.FAILED],
        pending=counts[DeliveryStatus.PENDING],
        last_at=None if last is None else last.updated_at,
        last=last,
    )


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str
    title: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, str]]
    peak: int
    total: int


def chart(
    deliveries: Iterable[Delivery],
    *,
    now: float,
    span: float = 24 * 3600,
    count: int = 24,
    width: int = 720,
    height: int = 160,
) -> Chart:
    """Deliveries created in the last ``span`` seconds, succeeded and failed, per bucket."""
    size = span / count
    start = math.ceil(now / size) * size - span  # buckets on round times (whole hours)
    ok, bad = [0] * count, [0] * count
    for d in deliveries:
        index = math.floor((d.created_at - start) / size)
        if 0 <= index < count and d.status is not DeliveryStatus.PENDING:
            (ok if d.status is DeliveryStatus.SUCCEEDED else bad)[index] += 1
    counts = [(start + i * size, ok[i], bad[i]) for i in range(count)]
    return stacked(counts, width=width, height=height)


#: Labels a bucket's axis tick from its start time, or answers None for no tick there.
Tick = Callable[[float], str | None]


def stacked(
    counts: Sequence[tuple[float, int, int]],
    *,
    width: int = 720,
    height: int = 160,
    tick: Tick | None = None,
) -> Chart:
    """Stacked bars of successes and failures per bucket, from ``(start, succeeded, failed)``
    in time order (as the store's health buckets come). Ticks by ``tick``; by default every
    sixth bucket from the first, labelled with its hour and minute (UTC)."""
    count = len(counts)
    if tick is None:
        first = counts[0][0] if counts else 0.0
        size = counts[1][0] - first if count > 1 else 1.0
        tick = _every_sixth(first, size)
    peak = max((ok + bad for _, ok, bad in counts), default=0)
    scale = (height - 20) / peak if peak else 0.0
    slot = width / count if count else 0.0
    bars: list[Bar] = []
    ticks: list[tuple[float, str]] = []
    for i, (start, ok, bad) in enumerate(counts):
        label = f"{iso(start)}: {ok} succeeded, {bad} failed"
        ok_h, bad_h = ok * scale, bad * scale
        x = i * slot + 1
        bars.append(Bar(x, height - ok_h, slot - 2, ok_h, "ok", label))
        bars.append(Bar(x, height - ok_h - bad_h, slot - 2, bad_h, "bad", label))
        text = tick(start)
        if text is not None:
            ticks.append((i * slot, text))
    total = sum(ok + bad for _, ok, bad in counts)
    return Chart(width, height, [b for b in bars if b.height > 0], ticks, peak, total)


def every(period: float, fmt: str) -> Tick:
    """Ticks on the buckets starting at a whole multiple of ``period`` seconds (UTC), labelled
    with ``time.strftime``'s ``fmt``: ``every(6 * 3600, "%H:%M")``, ``every(86400, "%d %b")``."""

    def label(start: float) -> str | None:
        return time.strftime(fmt, time.gmtime(start)) if start % period == 0 else None

    return label


def _every_sixth(first: float, size: float) -> Tick:
    def label(start: float) -> str | None:
        if round((start - first) / size) % 6:
            return None
        return (iso(start) or "")[11:16]

    return label


def percentiles(values: Sequence[float], points: Sequence[int] = (50, 90, 99)) -> dict[int, float]:
    """Nearest-rank percentiles; empty when there are no values."""
    ordered = sorted(values)
    if not ordered:
        return {}
    return {p: ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] for p in points}
