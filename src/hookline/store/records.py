"""The records the store's repositories take and give back, beyond the domain's models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hookline.domain.models import Attempt, Delivery, DeliveryStatus, Event, Flow, Webhook
from hookline.domain.records import record
from hookline.store.items import PublishItem, WindowSpec

__all__ = [
    "DeliveryCounts",
    "DeliveryQuery",
    "Expired",
    "HealthBucket",
    "LogAttempt",
    "LogDelivery",
    "LogPage",
    "LogQuery",
    "PublishItem",
    "PublishResult",
    "QueueStats",
    "RoutingSnapshot",
    "WebhookHealth",
    "WindowSpec",
]


@dataclass(frozen=True, slots=True)
class DeliveryQuery:
    webhook_id: str | None = None
    event_id: str | None = None
    status: DeliveryStatus | None = None
    since: float | None = None
    until: float | None = None
    limit: int = 50
    cursor: str | None = None


@record
class PublishResult:
    event: Event
    deliveries: list[Delivery]
    created: bool


@dataclass(frozen=True, slots=True)
class RoutingSnapshot:
    """What routing needs of a workspace, as of one config version."""

    version: int
    webhooks: list[Webhook]
    flows: dict[str, Flow]


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Pending deliveries (held ones included) and the oldest due time of those not held."""

    pending: int
    oldest_due_at: float | None


@dataclass(frozen=True, slots=True)
class Expired:
    """One batch of a disabled webhook's held deliveries that expired: how many, and the types
    of the events they carried."""

    deliveries: int = 0
    event_types: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class LogQuery:
    """What a delivery-log listing selects (see :mod:`hookline.store.log`); None: any.

    ``cursor`` is the id the page starts after, newest first, or with ``backwards`` the id the
    page ends before (the previous page). ``outcome`` is 0 (success) or 2 (failure) of an
    attempt; ``code_class`` a status-code hundred (200 for 2xx, 0 for no answer).
    """

    limit: int = 50
    cursor: str | None = None
    backwards: bool = False
    before: float | None = None
    after: float | None = None
    channel: str | None = None
    tag: str | None = None
    event_types: tuple[str, ...] = ()
    status: DeliveryStatus | None = None
    outcome: int | None = None
    code_class: int | None = None
    webhook_id: str | None = None


@dataclass(frozen=True, slots=True)
class LogPage:
    """A page of a delivery-log listing, in display order (newest first), and whether more
    lie beyond it in the direction it was read."""

    items: list[Any]
    more: bool


@record
class LogAttempt:
    """An attempt with the event it delivered, and whether it was triggered by hand."""

    attempt: Attempt
    event: Event
    manual: bool


@record
class LogDelivery:
    delivery: Delivery
    event: Event


@record
class DeliveryCounts:
    succeeded: int
    failed: int
    pending: int
    sending: int


@dataclass(frozen=True, slots=True)
class HealthBucket:
    """A webhook's attempts started in ``[start, start + bucket_seconds)``."""

    start: float
    succeeded: int
    failed: int


@dataclass(frozen=True, slots=True)
class WebhookHealth:
    """A webhook's attempts over a time window, computed by the store from every attempt in it
    (see :meth:`hookline.store.log.LogRepository.webhook_health`).

    ``success_rate`` (0 to 1) and the latency percentiles are None when there was no attempt.
    A percentile is the upper edge of the latency bucket it falls in (an upper bound of the true
    value); ``buckets`` cover the window in time order, every one present.
    """

    attempts: int
    succeeded: int
    failed: int
    success_rate: float | None
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    buckets: list[HealthBucket]
