"""Time partitions of the history tables: which spans exist, which to create, which may go.

PostgreSQL keeps events, deliveries, attempts and window links in partitions by time. The time
is the one in each row's id (ids are ULIDs, ordered by when they were made): events by their own
id, deliveries by theirs, and attempts and window links by their delivery's id. So everything a
delivery left behind lives in the partitions of one span, and a span's partitions go together.

Spans are contiguous and never overlap: each runs from the previous one's end to the next
boundary of the interval (midnight UTC for ``day``, Monday midnight UTC for ``week``). Switching
the interval only changes where the next span ends. This module is pure: the store turns its
plans into DDL (:mod:`hookline.store.partition_ddl`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from hookline.domain.ids import new_id

Interval = Literal["day", "week"]
INTERVALS: tuple[Interval, ...] = ("day", "week")

#: Spans kept ready beyond the current one: a process that stops creating them (no upkeep for
#: this long) leaves inserts failing only after these have filled up.
AHEAD: dict[Interval, int] = {"day": 3, "week": 2}

_DAY = 86400.0


@dataclass(frozen=True, order=True)
class Span:
    """One partition's time range, ``[lower, upper)`` in epoch seconds."""

    lower: float
    upper: float

    @property
    def suffix(self) -> str:
        """The partitions' name suffix: ``p`` and the UTC date the span starts on."""
        return "p" + dt.datetime.fromtimestamp(self.lower, dt.UTC).strftime("%Y%m%d")

    def bounds(self, prefix: str) -> tuple[str, str]:
        """The span as a range of ids of ``prefix`` (``evt``, ``dlv``): the lowest id made at
        its start and the lowest made at its end."""
        return (
            new_id(prefix, at=self.lower, floor=True),
            new_id(prefix, at=self.upper, floor=True),
        )


def floor_boundary(t: float, interval: Interval) -> float:
    """The boundary at or before ``t``."""
    day = (t // _DAY) * _DAY
    if interval == "day":
        return day
    weekday = dt.datetime.fromtimestamp(day, dt.UTC).weekday()  # Monday is 0
    return day - weekday * _DAY


def next_boundary(t: float, interval: Interval) -> float:
    """The first boundary after ``t``."""
    step = _DAY if interval == "day" else 7 * _DAY
    return floor_boundary(t, interval) + step


def horizon(now: float, interval: Interval) -> float:
    """The end of the last span to have ready at ``now``: the current span and ``AHEAD``
    more."""
    end = next_boundary(now, interval)
    for _ in range(AHEAD[interval]):
        end = next_boundary(end, interval)
    return end


def to_create(
    existing: Sequence[Span], since: float, until: float, interval: Interval
) -> list[Span]:
    """The spans that make ``existing`` cover ``[since, until)`` without a gap, oldest first.

    New spans continue from the newest existing one (and, for ``since`` before the oldest, run
    back from the oldest one); with none at all they start at the boundary before ``since``.
    Spans dropped in the past are not made again unless ``since`` reaches back to them.
    """
    spans = sorted(existing)
    made: list[Span] = []
    if not spans:
        start = floor_boundary(since, interval)
        end = start
        while end < until:
            nxt = next_boundary(end, interval)
            made.append(Span(end, nxt))
            end = nxt
        return made
    first, last = spans[0], spans[-1]
    lower = first.lower
    while since < lower:
        start = floor_boundary(lower - 1, interval)
        made.append(Span(start, lower))
        lower = start
    end = last.upper
    while end < until:
        nxt = next_boundary(end, interval)
        made.append(Span(end, nxt))
        end = nxt
    return sorted(made)


def expired(existing: Sequence[Span], cutoff: float) -> list[Span]:
    """The spans wholly before ``cutoff`` (everything in them is older than retention),
    oldest first."""
    return sorted(s for s in existing if s.upper <= cutoff)
