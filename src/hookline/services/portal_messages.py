"""The customer portal's delivery log: a customer's messages and their attempts, retrying one
delivery, and recovering an endpoint's failures over a time range.

A customer sees only what their link lets them (``domain.portal_access.Customer``): events of the
types it allows, and deliveries and attempts to their own endpoints
(``services.portal_endpoints.visible``). Anything else reads as missing (:class:`NotFound`),
never as forbidden, so ids of other workspaces and of the operator's webhooks reveal nothing.
Hookline's own events (alerts about deliveries, which may name the operator's webhooks) show
only when they were sent to one of the customer's endpoints.

The message log is read page by page in ``services.portal_log_pages``.
"""

from __future__ import annotations

import math
from dataclasses import replace

from hookline.domain.models import (
    EVENT_PATTERN,
    Attempt,
    Delivery,
    DeliveryStatus,
    Event,
    Webhook,
)
from hookline.domain.portal_access import Customer
from hookline.domain.records import record
from hookline.errors import Conflict, NotFound, ValidationFailed
from hookline.services import deliveries, portal
from hookline.services.deps import Deps
from hookline.services.portal_endpoints import endpoint
from hookline.services.portal_log_pages import (
    EVENT_DELIVERIES,
    Hooks,
    MessageFilter,
    MessagePage,
    Scan,
    back,
    forward,
    shown,
)
from hookline.store import LogQuery

__all__ = [
    "Sent",
    "delivery",
    "list_messages",
    "message",
    "message_filter",
    "recover",
    "retry",
]


@record
class Sent:
    """A delivery of a message to one of the customer's endpoints, with its attempts (first
    attempt first)."""

    delivery: Delivery
    endpoint: Webhook
    attempts: list[Attempt]


def message_filter(
    endpoint_id: str = "",
    status: str = "",
    event_type: str = "",
    *,
    since: float | None = None,
    until: float | None = None,
) -> MessageFilter:
    """The filter of the message log's query parameters (blank: any)."""
    problems = []
    if since is not None and until is not None and not since < until:
        problems.append("until: a time after from")
    if status and status not in {s.value for s in DeliveryStatus}:
        problems.append("status: succeeded, failed or pending")
    if event_type and (len(event_type) > 200 or not EVENT_PATTERN.match(event_type)):
        problems.append("event type: a name or a 'prefix.*' pattern")
    if problems:
        raise ValidationFailed("; ".join(problems))
    return MessageFilter(
        endpoint_id or None,
        DeliveryStatus(status) if status else None,
        event_type or None,
        since,
        until,
    )


async def list_messages(
    deps: Deps,
    customer: Customer,
    wanted: MessageFilter,
    *,
    cursor: str | None = None,
    backwards: bool = False,
    limit: int = 50,
) -> MessagePage:
    """One page of the customer's messages, newest first: after ``cursor``, or with
    ``backwards`` the page before it."""
    chosen = wanted.endpoint_id
    hook = None if chosen is None else await endpoint(deps, customer, chosen)
    exact = wanted.event_type if wanted.event_type and "*" not in wanted.event_type else None
    if customer.link.event_types == () or (exact and not customer.may_see(exact)):
        return MessagePage([], None, None)  # nothing the link lets the customer see
    scan = Scan(deps, customer, wanted)
    # The store's ``after`` is exclusive: from just below ``since`` selects from ``since`` on.
    after = None if wanted.since is None else math.nextafter(wanted.since, -math.inf)
    query = LogQuery(
        limit=limit,
        event_types=scan.store_types(),
        status=wanted.status,
        after=after,
        before=wanted.until,
    )
    fetch = scan.events(query) if hook is None else scan.webhook_deliveries(hook, query)
    if backwards and cursor is not None:
        found = await back(fetch, cursor, limit)
        if found is not None:
            return found
        cursor = None
    return await forward(fetch, cursor, limit)


async def message(deps: Deps, customer: Customer, event_id: str) -> tuple[Event, list[Sent]]:
    """The message and its deliveries to the customer's endpoints, each with its attempts."""
    event = await _event(deps, customer, event_id)
    page = await deps.store.log.list_event_deliveries(
        customer.workspace_id, event.id, LogQuery(limit=EVENT_DELIVERIES)
    )
    hooks = Hooks(deps, customer)
    sent = []
    for d in reversed(page.items):  # the first made first
        hook = await hooks.get(d.webhook_id)
        if hook is not None:
            attempts = await deps.store.history.list_attempts(customer.workspace_id, d.id)
            sent.append(Sent(d, hook, attempts))
    if not shown(event, [s.delivery for s in sent]):
        raise NotFound(f"message {event_id} not found")
    return event, sent


async def delivery(deps: Deps, customer: Customer, delivery_id: str) -> Sent:
    """One delivery of a message the customer may see, to one of their endpoints."""
    found = await deliveries.get_with_attempts(deps, customer.workspace_id, delivery_id)
    hook = await Hooks(deps, customer).get(found.delivery.webhook_id)
    event = await deps.store.history.get_event(customer.workspace_id, found.delivery.event_id)
    if hook is None or event is None or not customer.may_see(event.type):
        raise NotFound(f"delivery {delivery_id} not found")
    return Sent(found.delivery, hook, found.attempts)


async def retry(deps: Deps, customer: Customer, delivery_id: str) -> Delivery:
    """Send the delivery again now (``services.deliveries.retry``)."""
    customer.check_write()
    await delivery(deps, customer, delivery_id)
    done = await deliveries.retry(deps, customer.workspace_id, delivery_id)
    await portal.audit(deps, customer, "delivery.retried", delivery_id)
    return done


async def recover(
    deps: Deps, customer: Customer, webhook_id: str, *, since: float, until: float
) -> int:
    """Queue again every failed delivery to the endpoint made from ``since`` until ``until``
    (``services.deliveries.replay``); answers how many. Through a link limited to some event
    types, only the deliveries of those types are sent again, one by one."""
    customer.check_write()
    hook = await endpoint(deps, customer, webhook_id)
    if not since < until:
        raise ValidationFailed("until: after since", field="until")
    if customer.link.event_types is None:
        ws = customer.workspace_id
        queued = await deliveries.replay(deps, ws, hook.id, since=since, until=until)
    else:
        queued = await _recover_visible(deps, customer, hook, since, until)
    detail = {"since": since, "until": until, "queued": queued}
    await portal.audit(deps, customer, "endpoint.recovered", hook.id, detail)
    return queued


async def _event(deps: Deps, customer: Customer, event_id: str) -> Event:
    found = await deps.store.history.get_event(customer.workspace_id, event_id)
    if found is None or not customer.may_see(found.type):
        raise NotFound(f"message {event_id} not found")
    return found


async def _recover_visible(
    deps: Deps, customer: Customer, hook: Webhook, since: float, until: float
) -> int:
    ws, queued = customer.workspace_id, 0
    # ``after`` is exclusive: from just below ``since`` selects what replay's ``since`` does.
    after = math.nextafter(since, -math.inf)
    query = LogQuery(limit=500, status=DeliveryStatus.FAILED, after=after, before=until)
    while True:
        page = await deps.store.log.list_webhook_deliveries(ws, hook.id, query)
        for item in page.items:
            if customer.may_see(item.event.type):
                try:
                    await deliveries.retry(deps, ws, item.delivery.id)
                except Conflict:
                    continue  # being attempted right now: it is not failed any more
                queued += 1
        if not page.more or not page.items:
            return queued
        query = replace(query, cursor=page.items[-1].delivery.id)
