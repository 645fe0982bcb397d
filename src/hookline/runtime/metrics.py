"""Prometheus metrics: deliveries by outcome, attempt latency, failure streaks, queue depth.

Counters live in the process that sends (the embedded worker, or a ``hookline worker`` with
``HOOKLINE_METRICS_PORT``); queue gauges are read from the database at scrape time, so any
process serving metrics reports the shared queue. Who may read them, on which port:
``hookline.runtime.metrics_access``.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from hookline.domain.models import AttemptOutcome, DeliveryStatus
from hookline.store import Store

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_KINDS = {
    DeliveryStatus.SUCCEEDED: "succeeded",
    DeliveryStatus.PENDING: "retry",
    DeliveryStatus.FAILED: "failed",
}


class AttemptStats(Collector):
    """Attempts by outcome and error class, and their durations, kept as plain numbers and
    turned into Prometheus's counter and histogram only when scraped.

    ``prometheus_client``'s own ``Counter`` and ``Histogram`` take a lock per increment (three
    per attempt): a visible share of a delivery's CPU in profiles. Only the worker's event loop
    counts here, and scrapes are answered in that same loop (on the API's port or the metrics
    port), so a scrape never sees a table half-updated."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.buckets = [0] * (len(_BUCKETS) + 1)  # per bucket, not cumulative; the last is +Inf
        self.seconds = 0.0
        self._created = time.time()

    def observe(self, outcome: str, error_class: str, seconds: float) -> None:
        key = (outcome, error_class)
        self.counts[key] = self.counts.get(key, 0) + 1
        self.buckets[bisect_left(_BUCKETS, seconds)] += 1
        self.seconds += seconds

    def collect(self) -> Iterator[Metric]:
        counts, buckets, seconds = dict(self.counts), list(self.buckets), self.seconds
        attempts = CounterMetricFamily(
            "hookline_attempts",
            "Delivery attempts by outcome (succeeded, retry, failed) and error class.",
            labels=["outcome", "error_class"],
        )
        for labels, count in sorted(counts.items()):
            attempts.add_metric(labels, count, created=self._created)
        yield attempts
        cumulative, total = [], 0
        for bound, count in zip([*map(str, map(float, _BUCKETS)), "+Inf"], buckets, strict=True):
            total += count
            cumulative.append((bound, total))
        durations = HistogramMetricFamily(
            "hookline_attempt_duration_seconds",
            "Time from sending a request to its response or error.",
        )
        durations.add_metric([], cumulative, sum_value=seconds)
        yield durations


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.attempts = AttemptStats()
        self.registry.register(self.attempts)
        self.streak = Gauge(
            "hookline_webhook_failure_streak",
            "Consecutive failed attempts of each webhook now failing (no series once it succeeds).",
            ["webhook_id"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "hookline_queue_depth", "Pending deliveries.", registry=self.registry
        )
        self.oldest_due_age = Gauge(
            "hookline_oldest_due_age_seconds",
            "How long the oldest due pending delivery has been waiting.",
            registry=self.registry,
        )
        self._streaks: dict[str, int] = {}

    def observe(self, outcome: AttemptOutcome) -> None:
        attempt = outcome.attempt
        kind = _KINDS[outcome.status]
        self.attempts.observe(kind, attempt.error_class or "", attempt.duration_ms / 1000)
        webhook_id = attempt.webhook_id
        if kind == "succeeded":
            # Only failing webhooks have a series: with thousands of webhooks, one series each
            # would make every scrape (and this process's memory) grow with the webhook count.
            if self._streaks.pop(webhook_id, None) is not None:
                self.streak.remove(webhook_id)
            return
        streak = self._streaks.get(webhook_id, 0) + 1
        self._streaks[webhook_id] = streak
        self.streak.labels(webhook_id).set(streak)

    async def render(self, store: Store | None) -> bytes:
        if store is not None:
            now = time.time()
            stats = await store.queue.queue_stats(now)
            self.queue_depth.set(stats.pending)
            due = stats.oldest_due_at
            self.oldest_due_age.set(max(0.0, now - due) if due is not None else 0.0)
        return generate_latest(self.registry)
