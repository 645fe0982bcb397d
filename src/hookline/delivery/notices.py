"""Operational events: Hookline reports on its own deliveries through the same pipeline.

* ``hookline.delivery.failed`` — a delivery used its last attempt;
* ``hookline.webhook.disabled`` — a webhook was disabled (410 Gone, or failing for too long);
* ``hookline.webhook.recovered`` — a webhook succeeded again after failing attempts;
* ``hookline.webhook.deliveries_expired`` — deliveries held while a webhook was disabled grew
  older than the retention period and were failed (published by maintenance).

They are published into the webhook's workspace, so any webhook or email action subscribed to
``hookline.*`` (or one of the names) receives them. Deliveries of operational events never
produce operational events themselves, so a failing alert endpoint cannot loop.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from hookline.domain.models import AttemptOutcome, Claimed, DeliveryStatus, Webhook
from hookline.errors import StoreError
from hookline.services import publishing
from hookline.services.routing import Router
from hookline.store import Store

log = logging.getLogger(__name__)
PREFIX = "hookline."
RECOVERY_STREAK = 3


class Notices:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._router = Router(store)
        self._streaks: dict[str, int] = {}

    async def after(self, claimed: Claimed, outcome: AttemptOutcome) -> None:
        if claimed.event.type.startswith(PREFIX):
            return
        hook_id = claimed.webhook.id
        if outcome.status is DeliveryStatus.SUCCEEDED:
            streak = self._streaks.pop(hook_id, 0)
            if streak >= RECOVERY_STREAK:
                await self.publish(
                    claimed.webhook, "webhook.recovered", {"failed_attempts": streak}
                )
            return
        self._streaks[hook_id] = self._streaks.get(hook_id, 0) + 1
        if outcome.status is DeliveryStatus.FAILED:
            await self.publish(claimed.webhook, "delivery.failed", _failure(claimed, outcome))
        if outcome.disable_webhook:
            await self.publish(
                claimed.webhook, "webhook.disabled", {"reason": outcome.disable_webhook}
            )

    async def publish(self, webhook: Webhook, name: str, details: dict[str, Any]) -> None:
        payload = {"webhook_id": webhook.id, "webhook_name": webhook.config.name, **details}
        try:
            await publishing.publish(
                self._store,
                self._router,
                webhook.workspace_id,
                PREFIX + name,
                payload,
                idempotency_key=None,
                now=time.time(),
            )
        except StoreError as exc:  # a notice is best effort; the delivery itself is recorded
            log.warning("could not publish %s%s: %s", PREFIX, name, exc)


def _failure(claimed: Claimed, outcome: AttemptOutcome) -> dict[str, Any]:
    attempt = outcome.attempt
    return {
        "delivery_id": claimed.delivery.id,
        "event_id": claimed.event.id,
        "event_type": claimed.event.type,
        "attempts": attempt.number,
        "last_status": attempt.response_status,
        "last_error": attempt.error_message,
    }
