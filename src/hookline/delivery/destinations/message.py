"""Building the broker message for one attempt (pure: no I/O), from the same parts as an HTTP
request: the body :func:`~hookline.delivery.request.render_body` renders (payload, body
template, or an aggregation window's batch) and the headers of
:func:`~hookline.delivery.request.with_event_headers` (custom headers, event id and type,
delivery id, attempt number, every signature scheme's headers).

The target (routing key, subject or topic) is a template rendered with the event type as
``$type``, then the payload's top-level fields, ``${event.id}`` and ``${payload.…}``.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from typing import Any

from hookline.delivery.destinations.base import BrokerMessage
from hookline.delivery.request import render_body, template_context, with_event_headers
from hookline.domain.destinations import (
    NatsAction,
    RabbitMQAction,
    RedisAction,
    render_target,
    target_problem,
)
from hookline.domain.models import Event, Webhook
from hookline.errors import TemplateTooLarge

__all__ = ["InvalidTarget", "build_message", "target_of"]


class InvalidTarget(ValueError):
    """The target rendered for this event cannot be published to (empty, a wildcard …)."""


def target_of(webhook: Webhook, event: Event) -> str:
    """The routing key, subject, stream or topic of this event's message."""
    config = webhook.config
    action = config.broker
    assert action is not None, "only broker actions have a target"
    if isinstance(action, RedisAction):
        return action.stream
    template = (
        action.routing_key
        if isinstance(action, RabbitMQAction)
        else action.subject
        if isinstance(action, NatsAction)
        else action.topic
    )
    context: ChainMap[str, Any] = template_context(event).new_child({"type": event.type})
    try:
        target = render_target(template, context)
    except TemplateTooLarge as exc:
        raise InvalidTarget(f"the target template renders too long: {exc}") from None
    problem = target_problem(config.kind, target)
    if problem is not None:
        raise InvalidTarget(problem)
    return target


def build_message(
    webhook: Webhook,
    event: Event,
    *,
    delivery_id: str,
    attempt: int,
    now: float,
    max_body_bytes: int | None = None,
    extra: Mapping[str, str] | None = None,
) -> BrokerMessage:
    """The message for one attempt. Raises :class:`~hookline.errors.TemplateTooLarge` like
    ``build_request``, and :class:`InvalidTarget` when the target cannot be published to.
    ``extra``: as ``build_request``'s (the trace context, as message headers)."""
    config = webhook.config
    action = config.broker
    assert action is not None, "only broker actions build messages"
    body = render_body(webhook, event, max_bytes=max_body_bytes) or b""
    headers = with_event_headers(
        webhook,
        event,
        {"Content-Type": config.content_type},
        body,
        delivery_id=delivery_id,
        attempt=attempt,
        now=now,
        extra=extra,
    )
    return BrokerMessage(
        kind=config.kind,
        action=action,
        target=target_of(webhook, event),
        body=body,
        headers=headers,
        content_type=config.content_type,
        message_id=event.id,
        timeout=config.timeout_seconds,
    )
