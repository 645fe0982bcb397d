"""Per-webhook scheduling in one worker: how many deliveries of each webhook it claims, holds
and sends at once, in which order, and how fast (pure logic: the worker does the I/O).

**The limit.** Each webhook has one number in each worker, its *limit*: how many of its requests
may be in flight at once. It never exceeds ``HOOKLINE_PER_WEBHOOK_CONCURRENCY`` (the ceiling)
and moves like TCP's congestion window: a webhook this worker has not seen starts at a quarter
of the ceiling (slow start); every answer (an HTTP response of any status, an email the server
accepted) adds one; a timeout or a connection failure halves it, down to one, and makes the
webhook *failing* until it answers again; other failures (a refusal before sending, an SMTP
server's refusal) change nothing.

Everything else follows from the limit:

* **in flight**: at most ``limit`` requests;
* **held** (in flight, or claimed and waiting for a slot): at most ``HOLD_FACTOR`` (4) times
  ``limit``, the limit in flight and three times as many waiting so the next requests are at
  hand, or what the webhook answered in the last ``PACE_SECONDS`` (0.1 s) if that is more;
  a failing webhook holds no more than ``limit``, and failing webhooks together hold at most a
  quarter of the worker's slots, so endpoints that never answer tie up a few slots for their
  timeout, not the whole worker;
* **claims**: a claim leases no more of a webhook than it may still hold (its *room*); a webhook
  with no room is left out of claims, and one whose room a claim filled stays out until half
  of what it holds is done, not re-claimed (and given back) a batch at a time per free slot.
  A busy webhook is therefore claimed twice its limit at a time. Each claim has a fixed cost
  (PostgreSQL plans it and it takes five round trips) that at 3,000 deliveries a second to one
  webhook was the larger part of the database's work when a claim took only the limit's
  worth; the price of the deeper hold is that an answering but slow endpoint's deliveries wait
  in one worker for up to three of its response times rather than one.

**The pace.** Claims are made one after another, so what a webhook can receive from one worker
is bounded by what it may hold divided by the time a claim takes, and a claim takes longest
when the worker is busiest. Four times the default limit (80) over claims of 10-25 ms, each
made while the last one's deliveries were being sent, was below 3,000 deliveries a second: a
fast endpoint fell behind as load grew, and each claim's round trips then waited longer in the
busy event loop. A webhook that answers fast may therefore hold its *pace*, what it answered
in the last ``PACE_SECONDS``, counted over windows of at least ``PACE_WINDOW``: at 3,000 a
second, 300. Only answers count, so a slow or failing endpoint never holds more than before,
and waiting ``PACE_SECONDS`` of its own answers costs a delivery nothing against its lease. A
webhook with a pace is given its room in every claim, held or not (one not held otherwise gets
the room of a webhook not seen yet).

Held deliveries start round robin over webhooks, so one webhook's backlog never runs ahead of
the others'. One that waited so long for a slot that its lease could end mid-request (and
another worker send it too) is not started: it is set aside as stale, to be given back.

**The rate.** Apart from the limit, a webhook's ``rate_limit_per_second`` paces its requests
(:class:`Throttle`): lowered while the receiver answers 429 and raised while it does not (AIMD).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence

from hookline.domain.models import Claimed, Webhook
from hookline.domain.retry import AdaptiveRate, TokenBucket

# Errors that kept (or may have kept) a slot busy until a timeout: the ones that starve others.
SLOW_FAILURES = frozenset({"timeout", "connect", "dns", "tls", "protocol"})
_ANSWERED = frozenset({None, "http_status"})
#: How many times its limit a webhook that is not failing may hold (see the module's text).
HOLD_FACTOR = 4
#: A webhook that answers fast may hold what it answered in this many seconds (its pace).
PACE_SECONDS = 0.1
#: Answers are counted over windows at least this long (seconds, monotonic).
PACE_WINDOW = 0.25
_MAX_TRACKED = 50_000


def found_all_due(
    claimed: Sequence[Claimed], limit: int, rooms: Mapping[str, int], default_room: int
) -> bool:
    """Whether a claim made on these terms (``limit`` in all, ``rooms`` per webhook, else
    ``default_room``) found some deliveries and all that were due: it filled neither its limit
    nor any webhook's room, so nothing due was left behind."""
    if not claimed or len(claimed) >= limit:
        return False
    counts: dict[str, int] = {}
    for item in claimed:
        counts[item.webhook.id] = counts.get(item.webhook.id, 0) + 1
    return all(n < rooms.get(w, default_room) for w, n in counts.items())


class Scheduler:
    """The limits, the claim terms and the held deliveries of one worker (see the module)."""

    def __init__(self, ceiling: int, worker_slots: int, *, stale_after: float) -> None:
        self.ceiling = max(1, ceiling)
        self.start = max(1, self.ceiling // 4)  # the limit of a webhook not seen yet
        self.failing_share = max(1, worker_slots // 4)
        self.stale_after = stale_after
        self._limits: dict[str, int] = {}
        self._failing: set[str] = set()
        # Plain dicts, no zero entries: Counter's missing-key and delete hooks are Python code,
        # run for every delivery when each webhook holds one (a fan-out).
        self.in_flight: dict[str, int] = {}
        self.held: dict[str, int] = {}  # in flight or waiting, per webhook
        self.total = 0  # everything held
        self._stale: list[str] = []  # delivery ids set aside, to be given back
        # Per webhook, the claimed deliveries waiting for a slot and when each was claimed
        # (monotonic): plain tuples, made at C speed for every delivery.
        self._waiting: dict[str, deque[tuple[Claimed, float]]] = {}
        self._runnable: deque[str] = deque()  # webhooks with waiting deliveries, round robin
        self._queued: set[str] = set()  # the members of _runnable
        self._backlogged: set[str] = set()  # out of claims until half of what they hold is done
        self._throttles: dict[str, Throttle] = {}
        # Answers per webhook since ``_window`` began, and the paces of the last full window
        # (only those above ``HOLD_FACTOR`` times the webhook's limit: the ones that matter).
        self._answers: dict[str, int] = {}
        self._window: float | None = None
        self._paces: dict[str, int] = {}

    # -- the limit ------------------------------------------------------------------------------
    def limit(self, webhook_id: str) -> int:
        """How many requests of the webhook may be in flight."""
        return self._limits.get(webhook_id, self.start)

    def hold_cap(self, webhook_id: str) -> int:
        """How many deliveries of the webhook may be held: ``HOLD_FACTOR`` times its limit or
        its pace, whichever is more; its limit only if failing."""
        limit = self._limits.get(webhook_id, self.start)
        if webhook_id in self._failing:
            return limit
        return max(HOLD_FACTOR * limit, self._paces.get(webhook_id, 0))

    def is_failing(self, webhook_id: str) -> bool:
        return webhook_id in self._failing

    def observe(self, webhook_id: str, error_class: str | None) -> None:
        """Adjust the limit after one attempt ended with ``error_class`` (None: success)."""
        current = self._limits.get(webhook_id, self.start)
        if error_class in SLOW_FAILURES:
            self._failing.add(webhook_id)
            self._limits[webhook_id] = max(1, current // 2)
        elif error_class in _ANSWERED:
            self._failing.discard(webhook_id)
            self._answers[webhook_id] = self._answers.get(webhook_id, 0) + 1
            if len(self._limits) >= _MAX_TRACKED and webhook_id not in self._limits:
                # Bounded memory with very many webhooks: forget the healthy ones (they restart
                # at the slow-start limit, which is only a brief dip).
                self._limits = {w: n for w, n in self._limits.items() if w in self._failing}
            self._limits[webhook_id] = min(self.ceiling, current + 1)

    # -- claims ---------------------------------------------------------------------------------
    def claim_terms(self, now: float) -> tuple[set[str], dict[str, int], int]:
        """What the next claim may lease: the webhooks to leave out, the room of every other
        held, failing or paced webhook, and the room of any other (a new one's hold cap).
        ``now`` is monotonic."""
        self._measure(now)
        held = self.held
        self._backlogged = {w for w in self._backlogged if held.get(w, 0) > self.hold_cap(w) // 2}
        excluded = {w for w, n in held.items() if n >= self.hold_cap(w)} | self._backlogged
        failing_room = max(0, self.failing_share - self._failing_held())
        if not failing_room:
            excluded |= self._failing
        rooms = {
            w: max(0, self.hold_cap(w) - held.get(w, 0))
            for w in {*held, *self._failing, *self._paces}  # held has no zero counts
            if w not in excluded
        }
        for w in self._failing:
            if w in rooms:
                rooms[w] = min(rooms[w], failing_room)
        return excluded, rooms, HOLD_FACTOR * self.start

    def _measure(self, now: float) -> None:
        """Start a new window of answers once the current one is ``PACE_WINDOW`` old, keeping
        the paces it measured."""
        if self._window is None:  # the first claim: count from now
            self._window, self._answers = now, {}
            return
        elapsed = now - self._window
        if elapsed < PACE_WINDOW:
            return
        limits, start, scale = self._limits, self.start, PACE_SECONDS / elapsed
        paces = {w: math.ceil(n * scale) for w, n in self._answers.items()}
        self._paces = {w: p for w, p in paces.items() if p > HOLD_FACTOR * limits.get(w, start)}
        self._answers = {}
        self._window = now

    def has_room(self, webhook_id: str) -> bool:
        """Whether the next claim may lease any of the webhook's deliveries: it holds less than
        its cap (at most half of it, once a claim filled it) and, if failing, failing webhooks
        hold less than their share."""
        held = self.held.get(webhook_id, 0)
        cap = self.hold_cap(webhook_id)
        if held >= (cap // 2 + 1 if webhook_id in self._backlogged else cap):
            return False
        return webhook_id not in self._failing or self._failing_held() < self.failing_share

    def admit(self, claimed: list[Claimed]) -> tuple[list[Claimed], list[str]]:
        """The claimed deliveries to keep, and the ids of those to give back at once: what a
        claim returns beyond a webhook's room would take the slots others are waiting for."""
        held = self.held
        room = {
            c.webhook.id: self.hold_cap(c.webhook.id) - held.get(c.webhook.id, 0) for c in claimed
        }
        failing_room = self.failing_share - self._failing_held()
        keep: list[Claimed] = []
        excess: list[str] = []
        for item in claimed:
            webhook_id = item.webhook.id
            room[webhook_id] -= 1
            failing = webhook_id in self._failing
            if failing:
                failing_room -= 1
            if room[webhook_id] >= 0 and (not failing or failing_room >= 0):
                keep.append(item)
            else:
                excess.append(item.delivery.id)
            if room[webhook_id] <= 0:
                self._backlogged.add(webhook_id)  # full, and more may be waiting
        return keep, excess

    def _failing_held(self) -> int:
        held = self.held
        return sum(held.get(w, 0) for w in self._failing)

    # -- held deliveries ------------------------------------------------------------------------
    def hold(self, claimed: Iterable[Claimed], now: float) -> None:
        """Hold admitted deliveries until they may start (``now`` is monotonic)."""
        waiting, held = self._waiting, self.held
        for item in claimed:
            webhook_id = item.webhook.id
            held[webhook_id] = held.get(webhook_id, 0) + 1
            self.total += 1
            queue = waiting.get(webhook_id)
            if queue is None:
                queue = waiting[webhook_id] = deque()
            queue.append((item, now))
            self._mark_runnable(webhook_id)

    def take(self, now: float) -> Claimed | None:
        """The next delivery that may start, now counted in flight; None when none may. A
        webhook at its limit waits until :meth:`finish` of one of its requests."""
        runnable, in_flight, limits, start = (
            self._runnable,
            self.in_flight,
            self._limits,
            self.start,
        )
        while runnable:
            webhook_id = runnable.popleft()
            self._queued.discard(webhook_id)
            queue = self._waiting.get(webhook_id)
            if not queue or in_flight.get(webhook_id, 0) >= limits.get(webhook_id, start):
                continue
            claimed, at = queue.popleft()
            if queue:
                self._mark_runnable(webhook_id)
            else:
                del self._waiting[webhook_id]
            if now - at > self.stale_after:
                self._let_go(webhook_id)
                self._stale.append(claimed.delivery.id)
                continue
            in_flight[webhook_id] = in_flight.get(webhook_id, 0) + 1
            return claimed
        return None

    def finish(self, webhook_id: str) -> None:
        """One request of ``webhook_id`` ended (sent, or given back)."""
        _decrement(self.in_flight, webhook_id)
        self._let_go(webhook_id)
        if webhook_id in self._waiting:
            self._mark_runnable(webhook_id)

    def take_stale(self) -> list[str]:
        stale, self._stale = self._stale, []
        return stale

    def clear(self) -> list[str]:
        """Stop holding what has not started; returns those deliveries' ids (stale included)."""
        unsent = []
        for queue in self._waiting.values():
            for claimed, _ in queue:
                unsent.append(claimed.delivery.id)
                self._let_go(claimed.webhook.id)
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

    # -- the rate -------------------------------------------------------------------------------
    def throttle(self, webhook: Webhook) -> Throttle:
        """The webhook's pacing (anew when its ``rate_limit_per_second`` changed)."""
        ceiling = webhook.config.rate_limit_per_second
        throttle = self._throttles.get(webhook.id)
        if throttle is None or throttle.ceiling != ceiling:
            throttle = self._throttles[webhook.id] = Throttle(ceiling)
        return throttle


class Throttle:
    """One webhook's pace: its configured rate limit, adapted to its 429s (AIMD)."""

    def __init__(self, ceiling: float | None) -> None:
        self.ceiling = ceiling
        self._adaptive = AdaptiveRate(ceiling)
        self._bucket: TokenBucket | None = None

    def delay(self, now: float, max_wait: float) -> float:
        """Seconds the next request must wait (0 when unthrottled); one beyond ``max_wait`` is
        only reported: the request does not take its turn."""
        rate = self._adaptive.rate
        if rate is None:
            self._bucket = None
            return 0.0
        if self._bucket is None:
            self._bucket = TokenBucket(rate)
        else:
            self._bucket.set_rate(rate)
        return self._bucket.reserve(now, max_wait)

    def observe(self, status: int | None, now: float) -> None:
        if status == 429:
            self._adaptive.on_throttle(now)
        elif status is not None and 200 <= status < 300:
            self._adaptive.on_success(now)


def _decrement(counts: dict[str, int], key: str) -> None:
    left = counts[key] - 1
    if left > 0:
        counts[key] = left
    else:
        del counts[key]
