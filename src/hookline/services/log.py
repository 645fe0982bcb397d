"""The delivery log across a workspace's webhooks: events, attempts and deliveries filtered and
paged (``hookline.store.LogQuery``), a webhook's deliveries counted, content expunged, and one
event sent again to one webhook.

The Svix API's messages and attempts read through these functions.
"""

from __future__ import annotations

import time

from hookline.domain.models import Delivery
from hookline.errors import NotFound
from hookline.services import deliveries
from hookline.services.deps import Deps
from hookline.services.references import event_by_ref, webhook_by_ref
from hookline.store import DeliveryCounts, LogAttempt, LogPage, LogQuery

__all__ = [
    "LogQuery",
    "attempts_of_event",
    "attempts_of_webhook",
    "count_deliveries",
    "deliveries_of_event",
    "deliveries_of_webhook",
    "expunge_attempt",
    "expunge_event",
    "get_attempt",
    "list_events",
    "resend",
]


async def list_events(deps: Deps, ws: str, query: LogQuery) -> LogPage:
    return await deps.store.log.list_events(ws, query)


async def attempts_of_webhook(deps: Deps, ws: str, webhook_ref: str, query: LogQuery) -> LogPage:
    hook = await webhook_by_ref(deps, ws, webhook_ref)
    return await deps.store.log.list_webhook_attempts(ws, hook.id, query)


async def attempts_of_event(deps: Deps, ws: str, event_ref: str, query: LogQuery) -> LogPage:
    event = await event_by_ref(deps, ws, event_ref)
    return await deps.store.log.list_event_attempts(ws, event.id, query)


async def deliveries_of_webhook(deps: Deps, ws: str, webhook_ref: str, query: LogQuery) -> LogPage:
    """The webhook's deliveries with their events (``LogDelivery``), newest first."""
    hook = await webhook_by_ref(deps, ws, webhook_ref)
    return await deps.store.log.list_webhook_deliveries(ws, hook.id, query)


async def deliveries_of_event(deps: Deps, ws: str, event_ref: str, query: LogQuery) -> LogPage:
    """The event's deliveries (one per webhook it was queued for), newest first."""
    event = await event_by_ref(deps, ws, event_ref)
    return await deps.store.log.list_event_deliveries(ws, event.id, query)


async def get_attempt(deps: Deps, ws: str, event_ref: str, attempt_id: str) -> LogAttempt:
    """One attempt of the event."""
    event = await event_by_ref(deps, ws, event_ref)
    found = await deps.store.log.get_attempt(ws, attempt_id)
    if found is None or found.event.id != event.id:
        raise NotFound(f"attempt {attempt_id} not found")
    return found


async def expunge_event(deps: Deps, ws: str, event_ref: str) -> None:
    """Forget the event's payload (it reads ``{}`` from now on)."""
    event = await event_by_ref(deps, ws, event_ref)
    await deps.store.log.expunge_event(ws, event.id)


async def expunge_attempt(deps: Deps, ws: str, event_ref: str, attempt_id: str) -> None:
    """Forget what the receiver answered to one attempt."""
    found = await get_attempt(deps, ws, event_ref, attempt_id)
    await deps.store.log.expunge_attempt(ws, found.attempt.id)


async def count_deliveries(
    deps: Deps, ws: str, webhook_ref: str, since: float | None, until: float | None
) -> DeliveryCounts:
    """The webhook's deliveries made in ``[since, until)`` by state (default: all of them)."""
    hook = await webhook_by_ref(deps, ws, webhook_ref)
    now = time.time()
    return await deps.store.log.count_deliveries(
        ws, hook.id, since or 0.0, until if until is not None else now + 1, now
    )


async def resend(deps: Deps, ws: str, event_ref: str, webhook_ref: str) -> Delivery:
    """Send the event to the webhook again now: its newest delivery there is retried by hand
    (``hookline.services.deliveries.retry``)."""
    event = await event_by_ref(deps, ws, event_ref)
    hook = await webhook_by_ref(deps, ws, webhook_ref)
    found = await deps.store.log.latest_delivery(ws, event.id, hook.id)
    if found is None:
        raise NotFound(f"message {event.id} was never sent to endpoint {hook.id}")
    return await deliveries.retry(deps, ws, found.id)
