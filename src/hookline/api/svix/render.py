"""Hookline's records as the Svix API shows them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from hookline.api.svix import shapes
from hookline.domain import destinations
from hookline.domain.models import Delivery, DeliveryStatus, Event, EventType, Webhook, Workspace
from hookline.store import LogAttempt

#: Svix's message statuses.
SUCCESS, PENDING, FAIL, SENDING = 0, 1, 2, 3
STATUS_TEXT = {SUCCESS: "success", PENDING: "pending", FAIL: "fail", SENDING: "sending"}


def when(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def application(w: Workspace) -> shapes.ApplicationOut:
    return shapes.ApplicationOut(
        id=w.id, uid=w.uid, name=w.name, metadata=w.metadata, rate_limit=w.throttle_rate,
        throttle_rate=w.throttle_rate, created_at=when(w.created_at),
        updated_at=when(w.updated_at or w.created_at),
    )  # fmt: skip


def event_types_of(hook: Webhook) -> list[str] | None:
    """An endpoint that takes every event type has none, in Svix's terms."""
    events = hook.config.events
    return None if events == ["*"] else list(events)


def endpoint(hook: Webhook) -> shapes.EndpointOut:
    """An action as a Svix endpoint; a broker action's URL is where it publishes, without the
    password (``amqp://user@host/%2F?exchange=…``): read-only through this API."""
    c = hook.config
    url = c.url or (destinations.describe(c.kind, c.broker) if c.broker is not None else "")
    rate = None if c.rate_limit_per_second is None else int(c.rate_limit_per_second)
    types = event_types_of(hook)
    return shapes.EndpointOut(
        id=hook.id, uid=c.uid, url=url, description=c.description, version=1,
        disabled=not c.enabled, rate_limit=rate, throttle_rate=rate, event_types=types,
        filter_types=types, channels=c.channels, metadata=c.metadata,
        created_at=when(hook.created_at), updated_at=when(hook.updated_at),
    )  # fmt: skip


def _payload(event: Event, with_content: bool) -> dict[str, Any]:
    if not with_content:
        return {}
    payload = orjson.loads(event.body)
    return payload if isinstance(payload, dict) else {"data": payload}


def message(event: Event, with_content: bool = True) -> shapes.MessageOut:
    return shapes.MessageOut(
        id=event.id, event_id=event.idempotency_key, event_type=event.type,
        payload=_payload(event, with_content), channels=list(event.channels) or None,
        tags=list(event.tags) or None, timestamp=when(event.created_at),
    )  # fmt: skip


def delivery_status(d: Delivery) -> int:
    """A delivery's state as a Svix message status (a pending delivery is ``pending``, also
    while a worker attempts it)."""
    if d.status is DeliveryStatus.SUCCEEDED:
        return SUCCESS
    if d.status is DeliveryStatus.FAILED:
        return FAIL
    return PENDING


def next_attempt(d: Delivery) -> datetime | None:
    return when(d.next_attempt_at) if d.status is DeliveryStatus.PENDING else None


def attempt(found: LogAttempt, with_msg: bool = False) -> shapes.MessageAttemptOut:
    a = found.attempt
    # A broker's acknowledgement (no status code, no error) is a success too.
    ok = a.error_class is None and (a.response_status is None or 200 <= a.response_status < 300)
    status = SUCCESS if ok else FAIL
    return shapes.MessageAttemptOut(
        id=a.id, msg_id=found.event.id, endpoint_id=a.webhook_id, url=a.request_url,
        response=a.response_body or a.error_message or "",
        response_status_code=a.response_status or 0, response_duration_ms=int(a.duration_ms),
        status=status, status_text=STATUS_TEXT[status], trigger_type=1 if found.manual else 0,
        timestamp=when(a.started_at), msg=message(found.event) if with_msg else None,
    )  # fmt: skip


def endpoint_message(d: Delivery, event: Event, with_content: bool) -> shapes.EndpointMessageOut:
    status = delivery_status(d)
    return shapes.EndpointMessageOut(
        **message(event, with_content).model_dump(), status=status,
        status_text=STATUS_TEXT[status], next_attempt=next_attempt(d),
    )  # fmt: skip


def message_endpoint(d: Delivery, hook: Webhook) -> shapes.MessageEndpointOut:
    status = delivery_status(d)
    return shapes.MessageEndpointOut(
        **endpoint(hook).model_dump(), status=status, status_text=STATUS_TEXT[status],
        next_attempt=next_attempt(d),
    )  # fmt: skip


def event_type(et: EventType) -> shapes.EventTypeOut:
    flags = list(et.feature_flags) or None
    return shapes.EventTypeOut(
        name=et.name, description=et.description, archived=et.archived,
        deprecated=et.deprecated, schemas=et.schemas, feature_flag=flags[0] if flags else None,
        feature_flags=flags, group_name=et.group_name, created_at=when(et.created_at),
        updated_at=when(et.updated_at),
    )  # fmt: skip
