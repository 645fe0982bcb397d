"""The records the store's repositories take and give back, beyond the domain's models."""

from __future__ import annotations

from dataclasses import dataclass

from hookline.domain.models import Delivery, DeliveryStatus, Event, Flow, Webhook
from hookline.domain.records import record
from hookline.store.items import PublishItem, WindowSpec

__all__ = [
    "DeliveryQuery",
    "Expired",
    "PublishItem",
    "PublishResult",
    "QueueStats",
    "RoutingSnapshot",
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
