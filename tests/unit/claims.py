"""Claimed deliveries for the worker's pure scheduling tests (test_scheduler)."""

from __future__ import annotations

from hookline.domain.models import Claimed, Delivery, DeliveryStatus, Event, Webhook, WebhookConfig

T0 = 1_000.0


def claimed(webhook_id: str, n: int) -> Claimed:
    """Delivery ``dlv_<webhook>_<n>`` of webhook ``webhook_id``, claimed at ``T0``."""
    event = Event(f"evt_{webhook_id}_{n}", "ws", "t", "{}", None, T0)
    delivery = Delivery(
        f"dlv_{webhook_id}_{n}", "ws", event.id, webhook_id, DeliveryStatus.PENDING, 0, 0, T0,
        None, None, T0, T0,
    )  # fmt: skip
    hook = Webhook(
        webhook_id, "ws", WebhookConfig(name=webhook_id, url="https://x.test/"), (), T0, T0
    )
    return Claimed(delivery, event, hook)
