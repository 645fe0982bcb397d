"""Pure summaries: the median of several runs and their spread, percentiles, ratios."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Summary:
    """The runs of one measurement: the median is reported, min and max give the spread."""

    median: float
    low: float
    high: float
    runs: tuple[float, ...]

    @property
    def spread_pct(self) -> float:
        """(max - min) / median, in percent: how far apart the runs were."""
        if not self.median:
            return 0.0
        return 100.0 * (self.high - self.low) / abs(self.median)

    def as_dict(self) -> dict[str, object]:
        return {
            "median": self.median,
            "min": self.low,
            "max": self.high,
            "spread_pct": round(self.spread_pct, 1),
            "runs": list(self.runs),
        }


def summarize(values: Sequence[float]) -> Summary:
    if not values:
        return Summary(math.nan, math.nan, math.nan, ())
    return Summary(statistics.median(values), min(values), max(values), tuple(values))


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (NaN when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def ratio(numerator: float, denominator: float) -> float:
    if not denominator or math.isnan(denominator):
        return math.nan
    return numerator / denominator


def fmt(value: float, digits: int = 0) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:,.{digits}f}"
