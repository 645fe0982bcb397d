"""Sign-in attempts per client address, in a sliding window (pure, in memory).

Each API process counts its own attempts: behind a load balancer of N processes an address
gets at most N times the limit, which still makes guessing a 256-bit token hopeless and keeps
a weak configured admin token from being tried at speed.
"""

from __future__ import annotations

from collections import deque

MAX_ATTEMPTS = 10
WINDOW_SECONDS = 300.0
_MAX_ADDRESSES = 10_000


class LoginLimiter:
    def __init__(self, max_attempts: int = MAX_ATTEMPTS, window: float = WINDOW_SECONDS) -> None:
        self.max_attempts = max_attempts
        self.window = window
        self._seen: dict[str, deque[float]] = {}

    def attempt(self, address: str, now: float) -> float:
        """Count an attempt; 0 if it may go ahead, else the seconds until one may."""
        times = self._seen.setdefault(address, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.max_attempts:
            return times[0] + self.window - now
        times.append(now)
        self._forget_idle(now)
        return 0.0

    def _forget_idle(self, now: float) -> None:
        if len(self._seen) <= _MAX_ADDRESSES:
            return
        for address in [a for a, t in self._seen.items() if not t or t[-1] <= now - self.window]:
            del self._seen[address]
        while len(self._seen) > _MAX_ADDRESSES:  # all active: drop the oldest-seen addresses
            del self._seen[next(iter(self._seen))]
