"""A published event and its pending deliveries as they are first made (pure): one rule for the
publish path, aggregation windows, entity events and the Test button alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hookline.domain.ids import new_id
from hookline.domain.models import Delivery, DeliveryStatus, Event
from hookline.domain.payloads import encode_payload

__all__ = ["new_delivery", "new_event"]


def new_event(
    workspace_id: str,
    type: str,
    payload: Any,
    idempotency_key: str | None,
    now: float,
    *,
    channels: Sequence[str] = (),
    tags: Sequence[str] = (),
    traceparent: str | None = None,
) -> Event:
    return Event(
        id=new_id("evt"),
        workspace_id=workspace_id,
        type=type,
        body=encode_payload(payload),
        idempotency_key=idempotency_key,
        created_at=now,
        channels=tuple(channels),
        tags=tuple(tags),
        traceparent=traceparent,
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
