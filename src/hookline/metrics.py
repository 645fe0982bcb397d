"""Prometheus metrics: deliveries by outcome, attempt latency, failure streaks, queue depth.

Counters live in the process that sends (the embedded worker, or a ``hookline worker`` exposing
``--metrics-port``); queue gauges are read from the database at scrape time, so any API process
reports the shared queue.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from hookline.models import AttemptOutcome, DeliveryStatus
from hookline.store import Store

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "hookline_attempts",
            "Delivery attempts by outcome (succeeded, retry, failed) and error class.",
            ["outcome", "error_class"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "hookline_attempt_duration_seconds",
            "Time from sending a request to its response or error.",
            buckets=_BUCKETS,
            registry=self.registry,
        )
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
        self._counters: dict[tuple[str, str], Any] = {}

    def observe(self, outcome: AttemptOutcome) -> None:
        attempt = outcome.attempt
        kind = {
            DeliveryStatus.SUCCEEDED: "succeeded",
            DeliveryStatus.PENDING: "retry",
            DeliveryStatus.FAILED: "failed",
        }[outcome.status]
        key = (kind, attempt.error_class or "")
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self.deliveries.labels(*key)
        counter.inc()
        self.latency.observe(attempt.duration_ms / 1000)
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
            stats = await store.queue_stats(now)
            self.queue_depth.set(stats.pending)
            due = stats.oldest_due_at
            self.oldest_due_age.set(max(0.0, now - due) if due is not None else 0.0)
        return generate_latest(self.registry)
