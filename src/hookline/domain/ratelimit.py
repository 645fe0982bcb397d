"""Events per client address in a sliding window (pure, in memory): the dashboard's sign-in
attempts and the API's failed bearer authentications.

Each API process counts its own events: behind a load balancer of N processes an address gets
at most N times the limit, which still makes guessing a 256-bit token hopeless and keeps a weak
configured admin token from being tried at speed.
"""

from __future__ import annotations

from collections import deque

_MAX_ADDRESSES = 10_000


class SlidingWindow:
    """At most ``limit`` events per key in any ``window`` seconds.

    ``wait`` only looks, so a caller may check on every request and ``record`` only what
    counts (a failure); for a key with nothing in the window it is one dictionary lookup.
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[str, deque[float]] = {}

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may have another event: 0 while it is under the limit."""
        times = self._seen.get(key)
        if times is None:
            return 0.0
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._seen[key]
            return 0.0
        if len(times) < self.limit:
            return 0.0
        # Concurrent callers may have recorded past the limit: wait until enough have left.
        return times[len(times) - self.limit] + self.window - now

    def record(self, key: str, now: float) -> None:
        self._seen.setdefault(key, deque()).append(now)
        self._forget_idle(now)

    def attempt(self, key: str, now: float) -> float:
        """Count an event if the key is under the limit (0), else the seconds until it may."""
        wait = self.wait(key, now)
        if not wait:
            self.record(key, now)
        return wait

    def _forget_idle(self, now: float) -> None:
        if len(self._seen) <= _MAX_ADDRESSES:
            return
        for key in [k for k, t in self._seen.items() if not t or t[-1] <= now - self.window]:
            del self._seen[key]
        while len(self._seen) > _MAX_ADDRESSES:  # all active: drop the oldest-seen keys
            del self._seen[next(iter(self._seen))]
