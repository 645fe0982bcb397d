"""Turning a published payload into an event and one delivery per subscribed webhook."""

from __future__ import annotations

import json
from typing import Any

from hookline.ids import new_id
from hookline.models import Delivery, DeliveryStatus, Event
from hookline.routing import Router, Target
from hookline.store import PublishResult, Store
from hookline.store.windows import WindowSpec


def encode_payload(payload: Any) -> str:
    """The request body for a payload, serialised once per event and shared by its fan-out.

    It is byte-identical to ``json.dumps(payload)`` with default arguments on purpose: the
    action-flows receivers recompute their HMAC over exactly that string.
    """
    return json.dumps(payload)


def new_event(
    workspace_id: str, type: str, payload: Any, idempotency_key: str | None, now: float
) -> Event:
    return Event(
        id=new_id("evt"),
        workspace_id=workspace_id,
        type=type,
        body=encode_payload(payload),
        idempotency_key=idempotency_key,
        created_at=now,
    )


def new_delivery(
    event: Event, webhook_id: str, now: float, *, due: float | None = None
) -> Delivery:
    return Delivery(
        id=new_id("dlv"),
        workspace_id=event.workspace_id,
        event_id=event.id,
        webhook_id=webhook_id,
        status=DeliveryStatus.PENDING,
        attempts=0,
        retry_base=0,
        next_attempt_at=now if due is None else due,
        last_status=None,
        last_error=None,
        created_at=now,
        updated_at=now,
    )


async def publish(
    store: Store,
    router: Router,
    workspace_id: str,
    type: str,
    payload: Any,
    *,
    idempotency_key: str | None,
    now: float,
) -> PublishResult | None:
    """Store the event and its deliveries atomically; None if the workspace does not exist."""
    targets = await router.route(workspace_id, type, payload)
    if targets is None:
        return None
    event = new_event(workspace_id, type, payload, idempotency_key, now)
    deliveries, windows = fan_out(event, targets, now)
    return await store.publish(event, deliveries, windows=windows)


def fan_out(
    event: Event, targets: list[Target], now: float
) -> tuple[list[Delivery], list[WindowSpec]]:
    """A delivery now for each target without a window; the others collect the event."""
    deliveries = [
        new_delivery(event, t.webhook.id, now) for t in targets if not t.aggregation_seconds
    ]
    windows = [
        WindowSpec(t.webhook.id, t.aggregation_seconds, t.aggregation_max_events)
        for t in targets
        if t.aggregation_seconds
    ]
    return deliveries, windows
