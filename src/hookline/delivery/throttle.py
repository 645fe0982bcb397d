"""Per-webhook pacing for one worker: the configured rate limit, lowered while a receiver
answers 429 and raised again while it does not (AIMD)."""

from __future__ import annotations

from hookline.domain.models import Webhook
from hookline.domain.retry import AdaptiveRate, TokenBucket


class Throttle:
    def __init__(self, ceiling: float | None) -> None:
        self.ceiling = ceiling
        self._adaptive = AdaptiveRate(ceiling)
        self._bucket: TokenBucket | None = None

    def delay(self, now: float, max_wait: float) -> float:
        """Seconds this request must wait before going out (0 when unthrottled).

        A wait beyond ``max_wait`` is only reported: the request does not take its turn.
        """
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


class Throttles:
    def __init__(self) -> None:
        self._by_webhook: dict[str, Throttle] = {}

    def for_webhook(self, webhook: Webhook) -> Throttle:
        ceiling = webhook.config.rate_limit_per_second
        throttle = self._by_webhook.get(webhook.id)
        if throttle is None or throttle.ceiling != ceiling:
            throttle = Throttle(ceiling)
            self._by_webhook[webhook.id] = throttle
        return throttle
