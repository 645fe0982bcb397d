"""Workspace throttle rates in one worker: a workspace's ``throttle_rate`` (Svix's application
``throttleRate``, messages per second) paces all of its deliveries together, whichever webhook
they go to (pure logic: the worker reads the rates from the store and does the waiting).

Each limited workspace has a :class:`~hookline.domain.retry.TokenBucket` with no burst: its
requests are spaced ``1 / rate`` apart. The worker replaces the whole set of rates now and then
(:meth:`WorkspaceRates.replace`, every :data:`REFRESH_SECONDS`): a workspace whose rate changed
keeps its bucket at the new rate, one no longer limited loses its bucket, a new one gets one.

A delivery waits for both its webhook's pace (``rate_limit_per_second``, see
:mod:`hookline.delivery.scheduler`) and its workspace's: the longer of the two waits
(:meth:`WorkspaceRates.pace`). A delivery that would wait too long takes the turn of neither:
it goes back to the queue and delays nobody.

**Per worker.** Like a webhook's rate limit, the pace is kept in each worker process, not
shared between them: with N workers a workspace may receive up to N times its rate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from hookline.delivery.scheduler import Throttle
from hookline.domain.retry import TokenBucket

#: How often (seconds) a worker reads the workspaces' throttle rates again: a changed rate
#: takes effect in every worker within this time.
REFRESH_SECONDS: Final = 5.0


class WorkspaceRates:
    """The pace of every limited workspace in one worker (see the module)."""

    def __init__(self, rates: Mapping[str, float] | None = None) -> None:
        self._buckets: dict[str, TokenBucket] = {}
        self.replace(rates or {})

    def __len__(self) -> int:
        return len(self._buckets)

    def rate(self, workspace_id: str) -> float | None:
        """The workspace's messages per second, or None when it is not limited."""
        bucket = self._buckets.get(workspace_id)
        return None if bucket is None else bucket.rate

    def replace(self, rates: Mapping[str, float]) -> None:
        """Take ``rates`` ({workspace id: messages per second}) as the limited workspaces; a
        rate that is not a positive number leaves its workspace unlimited."""
        buckets: dict[str, TokenBucket] = {}
        for workspace_id, rate in rates.items():
            if not (rate > 0 and math.isfinite(rate)):
                continue
            bucket = self._buckets.get(workspace_id)
            if bucket is None:
                bucket = TokenBucket(rate)
            elif bucket.rate != rate:
                bucket.set_rate(rate)
            buckets[workspace_id] = bucket
        self._buckets = buckets

    def wait(self, workspace_id: str, now: float) -> float:
        """Seconds the workspace's next request would wait, without taking its turn."""
        bucket = self._buckets.get(workspace_id)
        # A bucket takes no token when the wait exceeds max_wait, and no wait is below -1.
        return 0.0 if bucket is None else bucket.reserve(now, max_wait=-1.0)

    def delay(self, workspace_id: str, now: float, max_wait: float) -> float:
        """Seconds the workspace's next request must wait (0 when unlimited); one beyond
        ``max_wait`` is only reported: the request does not take its turn."""
        bucket = self._buckets.get(workspace_id)
        return 0.0 if bucket is None else bucket.reserve(now, max_wait)

    def pace(self, workspace_id: str, throttle: Throttle, now: float, max_wait: float) -> float:
        """Seconds before a request of the workspace, paced by its webhook's ``throttle`` too,
        may be sent: the longer of the two waits. When that is beyond ``max_wait`` it takes
        the turn of neither (the request goes back to the queue)."""
        bucket = self._buckets.get(workspace_id)
        if bucket is None:  # most workspaces: only the webhook's pace, one lookup
            return throttle.delay(now, max_wait)
        ahead = bucket.reserve(now, max_wait=-1.0)
        if ahead > max_wait:
            return ahead
        wait = throttle.delay(now, max_wait)
        if wait > max_wait:
            return wait
        return max(wait, bucket.reserve(now, max_wait))
