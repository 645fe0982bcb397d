"""Per-webhook in-flight caps for one worker, adapted to how each endpoint behaves.

A webhook may have at most ``limit(webhook_id)`` deliveries held by this worker (sending, or
claimed and waiting for a slot). The limit never exceeds ``ceiling``
(``HOOKLINE_PER_WEBHOOK_CONCURRENCY``) and moves like TCP's congestion window:

* a webhook this worker has not seen starts at a quarter of the ceiling (slow start);
* every answer (any HTTP status: the endpoint is responsive) adds one slot, up to the ceiling;
* a timeout or a connection failure halves it, down to one.

Webhooks whose last attempt timed out or could not connect are *failing*; together they may hold
at most a quarter of the worker's slots. So ten endpoints that never answer hold a few slots for
their timeout, not the whole worker, while healthy endpoints keep flowing.
"""

from __future__ import annotations

# Errors that kept (or may have kept) a slot busy until a timeout: the ones that starve others.
SLOW_FAILURES = frozenset({"timeout", "connect", "dns", "tls", "protocol"})
_MAX_TRACKED = 50_000


class Caps:
    def __init__(self, ceiling: int, worker_slots: int) -> None:
        self.ceiling = max(1, ceiling)
        self.failing_share = max(1, worker_slots // 4)
        self._start = max(1, self.ceiling // 4)
        self._limits: dict[str, int] = {}
        self._failing: set[str] = set()

    @property
    def start(self) -> int:
        """The limit of a webhook this worker has not seen yet."""
        return self._start

    def limit(self, webhook_id: str) -> int:
        return self._limits.get(webhook_id, self._start)

    def is_failing(self, webhook_id: str) -> bool:
        return webhook_id in self._failing

    @property
    def failing(self) -> frozenset[str]:
        return frozenset(self._failing)

    def observe(self, webhook_id: str, error_class: str | None) -> None:
        """Adjust after one attempt ended with ``error_class`` (None: an HTTP answer came)."""
        current = self.limit(webhook_id)
        if error_class in SLOW_FAILURES:
            self._failing.add(webhook_id)
            self._limits[webhook_id] = max(1, current // 2)
            return
        if error_class not in (None, "http_status"):
            return  # refused before sending (blocked, invalid request): says nothing of speed
        self._failing.discard(webhook_id)
        if len(self._limits) >= _MAX_TRACKED and webhook_id not in self._limits:
            # Bounded memory with very many webhooks: forget the healthy ones (they restart
            # at the slow-start limit, which is only a brief dip).
            self._limits = {w: n for w, n in self._limits.items() if w in self._failing}
        self._limits[webhook_id] = min(self.ceiling, current + 1)
