"""Delivery statistics and the success/failure chart, computed from records (pure).

The chart is drawn server-side as inline SVG: stacked bars per time bucket, so the page needs
no JavaScript charting library.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
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
    peak = max((a + b for a, b in zip(ok, bad, strict=True)), default=0)
    scale = (height - 20) / peak if peak else 0.0
    slot = width / count
    bars: list[Bar] = []
    for i in range(count):
        label = f"{iso(start + i * size)}: {ok[i]} succeeded, {bad[i]} failed"
        ok_h, bad_h = ok[i] * scale, bad[i] * scale
        x = i * slot + 1
        bars.append(Bar(x, height - ok_h, slot - 2, ok_h, "ok", label))
        bars.append(Bar(x, height - ok_h - bad_h, slot - 2, bad_h, "bad", label))
    ticks = [(i * slot, (iso(start + i * size) or "")[11:16]) for i in range(0, count, 6)]
    return Chart(width, height, [b for b in bars if b.height > 0], ticks, peak, sum(ok) + sum(bad))


def percentiles(values: Sequence[float], points: Sequence[int] = (50, 90, 99)) -> dict[int, float]:
    """Nearest-rank percentiles; empty when there are no values."""
    ordered = sorted(values)
    if not ordered:
        return {}
    return {p: ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] for p in points}
