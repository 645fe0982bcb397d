"""What one worker holds: claimed deliveries waiting for a slot, per webhook, and the counts of
those in flight. Deliveries start round robin over webhooks, each webhook under its cap, so one
webhook's backlog never runs ahead of the others'.

A delivery that waited so long for a slot that its lease could end mid-request (and another
worker send it too) is not started: it is set aside as stale, to be given back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hookline.domain.models import Claimed


@dataclass(slots=True)
class _Waiting:
    """A claimed delivery waiting for a slot, and when it was claimed (monotonic)."""

    claimed: Claimed
    at: float


class Holding:
    def __init__(self, stale_after: float) -> None:
        self.stale_after = stale_after
        # Plain dicts, no zero entries: Counter's missing-key and delete hooks are Python code,
        # run for every delivery when each webhook holds one (a fan-out).
        self.in_flight: dict[str, int] = {}
        self.held: dict[str, int] = {}  # in flight or waiting, per webhook
        self.total = 0  # everything held
        self.stale: list[str] = []  # delivery ids set aside, to be given back
        self._waiting: dict[str, deque[_Waiting]] = {}
        self._runnable: deque[str] = deque()  # webhooks with waiting deliveries, round robin
        self._queued: set[str] = set()  # the members of _runnable

    def add(self, claimed: Iterable[Claimed], now: float) -> None:
        """Hold newly claimed deliveries (``now`` is monotonic)."""
        waiting, held = self._waiting, self.held
        for item in claimed:
            webhook_id = item.webhook.id
            held[webhook_id] = held.get(webhook_id, 0) + 1
            self.total += 1
            queue = waiting.get(webhook_id)
            if queue is None:
                queue = waiting[webhook_id] = deque()
            queue.append(_Waiting(item, now))
            self._mark_runnable(webhook_id)

    def take(self, limit: Callable[[str], int], now: float) -> Claimed | None:
        """The next delivery that may start, now counted in flight; None when none may.

        Webhooks take turns; one at its ``limit`` in flight waits until :meth:`finish` of one
        of its requests makes it runnable again.
        """
        runnable, in_flight = self._runnable, self.in_flight
        while runnable:
            webhook_id = runnable.popleft()
            self._queued.discard(webhook_id)
            queue = self._waiting.get(webhook_id)
            if not queue or in_flight.get(webhook_id, 0) >= limit(webhook_id):
                continue
            waiting = queue.popleft()
            if queue:
                self._mark_runnable(webhook_id)
            else:
                del self._waiting[webhook_id]
            if now - waiting.at > self.stale_after:
                self._let_go(webhook_id)
                self.stale.append(waiting.claimed.delivery.id)
                continue
            in_flight[webhook_id] = in_flight.get(webhook_id, 0) + 1
            return waiting.claimed
        return None

    def finish(self, webhook_id: str) -> None:
        """One request of ``webhook_id`` ended (sent, or given back)."""
        _decrement(self.in_flight, webhook_id)
        self._let_go(webhook_id)
        if webhook_id in self._waiting:
            self._mark_runnable(webhook_id)

    def take_stale(self) -> list[str]:
        stale, self.stale = self.stale, []
        return stale

    def clear(self) -> list[str]:
        """Stop holding what has not started; returns those deliveries' ids (stale included)."""
        unsent = []
        for queue in self._waiting.values():
            for waiting in queue:
                unsent.append(waiting.claimed.delivery.id)
                self._let_go(waiting.claimed.webhook.id)
        self._waiting.clear()
        self._runnable.clear()
        self._queued.clear()
        return unsent + self.take_stale()

    def _mark_runnable(self, webhook_id: str) -> None:
        if webhook_id not in self._queued:
            self._queued.add(webhook_id)
            self._runnable.append(webhook_id)

    def _let_go(self, webhook_id: str) -> None:
        _decrement(self.held, webhook_id)
        self.total -= 1


def _decrement(counts: dict[str, int], key: str) -> None:
    left = counts[key] - 1
    if left > 0:
        counts[key] = left
    else:
        del counts[key]
