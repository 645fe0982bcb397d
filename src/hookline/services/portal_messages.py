"""The customer portal's delivery log: a customer's messages and their attempts, retrying one
delivery, and recovering an endpoint's failures over a time range.

A customer sees only what their link lets them (``domain.portal_access.Customer``): events of the
types it allows, and deliveries and attempts to their own endpoints
(``services.portal_endpoints.visible``). Anything else reads as missing (:class:`NotFound`),
never as forbidden, so ids of other workspaces and of the operator's webhooks reveal nothing.
Hookline's own events (alerts about deliveries, which may name the operator's webhooks) show
only when they were sent to one of the customer's endpoints.

The message log pages with the store's cursors (``hookline.store.LogQuery``). What the store
cannot select (a link's ``prefix.*`` patterns, a delivery status across endpoints) is filtered
here while reading on, at most :data:`SCAN_PAGES` store pages per page shown; a page cut short
that way still links on to the rest.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import replace

from hookline.domain.models import (
    EVENT_PATTERN,
    Attempt,
    Delivery,
    DeliveryStatus,
    Event,
    Webhook,
    event_matches,
)
from hookline.domain.portal_access import Customer
from hookline.domain.records import record
from hookline.errors import Conflict, NotFound, ValidationFailed
from hookline.services import deliveries, portal
from hookline.services.deps import Deps
from hookline.services.portal_endpoints import endpoint, visible
from hookline.store import LogDelivery, LogQuery

__all__ = [
    "MessageFilter",
    "MessagePage",
    "MessageRow",
    "Sent",
    "delivery",
    "list_messages",
    "message",
    "message_filter",
    "recover",
    "retry",
]

#: Store pages read at most for one page of the message log when filtering here.
SCAN_PAGES = 10
#: The types of Hookline's own events (``hookline.delivery.notices``).
OWN_PREFIX = "hookline."
#: Deliveries of one event shown at most (one per endpoint it was sent to).
EVENT_DELIVERIES = 200


@record
class MessageFilter:
    """What the message log shows: one endpoint's deliveries, a delivery status, an event type
    (a name or a ``prefix.*`` pattern); None: any."""

    endpoint_id: str | None = None
    status: DeliveryStatus | None = None
    event_type: str | None = None


@record
class MessageRow:
    """A message with its deliveries to the customer's endpoints (to one, when filtered)."""

    event: Event
    deliveries: list[Delivery]


@record
class MessagePage:
    """Rows newest first; ``older``/``newer``: the cursors of the next pages, None at an end."""

    rows: list[MessageRow]
    older: str | None
    newer: str | None


@record
class Sent:
    """A delivery of a message to one of the customer's endpoints, with its attempts (first
    attempt first)."""

    delivery: Delivery
    endpoint: Webhook
    attempts: list[Attempt]


def message_filter(endpoint_id: str = "", status: str = "", event_type: str = "") -> MessageFilter:
    """The filter of the message log's query parameters (blank: any)."""
    problems = []
    if status and status not in {s.value for s in DeliveryStatus}:
        problems.append("status: succeeded, failed or pending")
    if event_type and (len(event_type) > 200 or not EVENT_PATTERN.match(event_type)):
        problems.append("event type: a name or a 'prefix.*' pattern")
    if problems:
        raise ValidationFailed("; ".join(problems))
    return MessageFilter(
        endpoint_id or None, DeliveryStatus(status) if status else None, event_type or None
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
    scan = _Scan(deps, customer, wanted)
    query = LogQuery(limit=limit, event_types=scan.store_types(), status=wanted.status)
    fetch = scan.events(query) if hook is None else scan.webhook_deliveries(hook, query)
    if backwards and cursor is not None:
        found = await _back(fetch, cursor, limit)
        if found is not None:
            return found
        cursor = None
    return await _forward(fetch, cursor, limit)


async def message(deps: Deps, customer: Customer, event_id: str) -> tuple[Event, list[Sent]]:
    """The message and its deliveries to the customer's endpoints, each with its attempts."""
    event = await _event(deps, customer, event_id)
    page = await deps.store.log.list_event_deliveries(
        customer.workspace_id, event.id, LogQuery(limit=EVENT_DELIVERIES)
    )
    hooks = _Hooks(deps, customer)
    sent = []
    for d in reversed(page.items):  # the first made first
        hook = await hooks.get(d.webhook_id)
        if hook is not None:
            attempts = await deps.store.history.list_attempts(customer.workspace_id, d.id)
            sent.append(Sent(d, hook, attempts))
    if not _shown(event, [s.delivery for s in sent]):
        raise NotFound(f"message {event_id} not found")
    return event, sent


async def delivery(deps: Deps, customer: Customer, delivery_id: str) -> Sent:
    """One delivery of a message the customer may see, to one of their endpoints."""
    found = await deliveries.get_with_attempts(deps, customer.workspace_id, delivery_id)
    hook = await _Hooks(deps, customer).get(found.delivery.webhook_id)
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


# -- reading on past what the store cannot select ------------------------------------------------


@record
class _Read:
    """A store page as cursor ids, each with its row (None: not shown), and whether more lie
    beyond it in the direction it was read."""

    items: list[tuple[str, MessageRow | None]]
    more: bool


_Fetch = Callable[[str | None, bool], Awaitable[_Read]]


class _Hooks:
    """The customer's endpoints by id, each read once."""

    def __init__(self, deps: Deps, customer: Customer) -> None:
        self._deps, self._ws = deps, customer.workspace_id
        self._known: dict[str, Webhook | None] = {}

    async def get(self, webhook_id: str) -> Webhook | None:
        if webhook_id not in self._known:
            found = await self._deps.store.config.get_webhook(self._ws, webhook_id)
            self._known[webhook_id] = found if found is not None and visible(found) else None
        return self._known[webhook_id]


class _Scan:
    """The message log's sources and the rows kept from them."""

    def __init__(self, deps: Deps, customer: Customer, wanted: MessageFilter) -> None:
        self.deps, self.customer, self.wanted = deps, customer, wanted
        self.ws = customer.workspace_id
        self.hooks = _Hooks(deps, customer)

    def store_types(self) -> tuple[str, ...]:
        """The event types the store can select exactly (empty: any, filtered here)."""
        wanted, allowed = self.wanted.event_type, self.customer.link.event_types
        if wanted is not None and "*" not in wanted:
            return (wanted,)
        if allowed is not None and all("*" not in t for t in allowed):
            return tuple(allowed)
        return ()

    def wants(self, event: Event) -> bool:
        chosen = self.wanted.event_type
        type_ok = chosen is None or event_matches([chosen], event.type)
        return type_ok and self.customer.may_see(event.type)

    def events(self, query: LogQuery) -> _Fetch:
        """Every message; with a status, those with a delivery in that status."""
        status = self.wanted.status

        async def row(event: Event) -> MessageRow | None:
            if not self.wants(event):
                return None
            sent = await self._deliveries_of(event)
            if not _shown(event, sent):
                return None
            if status is not None and all(d.status is not status for d in sent):
                return None
            return MessageRow(event, sent)

        async def fetch(cursor: str | None, backwards: bool) -> _Read:
            q = replace(query, cursor=cursor, backwards=backwards)
            page = await self.deps.store.log.list_events(self.ws, q)
            return _Read([(e.id, await row(e)) for e in page.items], page.more)

        return fetch

    def webhook_deliveries(self, hook: Webhook, query: LogQuery) -> _Fetch:
        """The endpoint's deliveries (the store selects their status)."""

        def row(item: LogDelivery) -> MessageRow | None:
            return MessageRow(item.event, [item.delivery]) if self.wants(item.event) else None

        async def fetch(cursor: str | None, backwards: bool) -> _Read:
            q = replace(query, cursor=cursor, backwards=backwards)
            page = await self.deps.store.log.list_webhook_deliveries(self.ws, hook.id, q)
            return _Read([(i.delivery.id, row(i)) for i in page.items], page.more)

        return fetch

    async def _deliveries_of(self, event: Event) -> list[Delivery]:
        page = await self.deps.store.log.list_event_deliveries(
            self.ws, event.id, LogQuery(limit=EVENT_DELIVERIES)
        )
        return [d for d in reversed(page.items) if await self.hooks.get(d.webhook_id)]


async def _forward(fetch: _Fetch, cursor: str | None, limit: int) -> MessagePage:
    """The page after ``cursor`` (the newest without one)."""
    rows: list[tuple[str, MessageRow]] = []
    at = cursor
    for _ in range(SCAN_PAGES):
        read = await fetch(at, False)
        for n, (key, row) in enumerate(read.items, 1):
            at = key
            if row is not None:
                rows.append((key, row))
            if len(rows) == limit:
                more = read.more or n < len(read.items)
                return _page(rows, key if more else None, cursor)
        if not read.more or not read.items:
            return _page(rows, None, cursor)
    return _page(rows, at, cursor)  # read as far as one page may: the rest is older


async def _back(fetch: _Fetch, cursor: str, limit: int) -> MessagePage | None:
    """The page before ``cursor``; None when it reaches the newest (the first page is then)."""
    rows: list[tuple[str, MessageRow]] = []
    at = cursor
    for _ in range(SCAN_PAGES):
        read = await fetch(at, True)
        rows = [(key, row) for key, row in read.items if row is not None] + rows
        if not read.more or not read.items:
            return None
        at = read.items[0][0]
        if len(rows) >= limit:
            shown = rows[-limit:]
            return MessagePage([row for _, row in shown], cursor, shown[0][0])
    return MessagePage([row for _, row in rows], cursor, at)


def _page(rows: list[tuple[str, MessageRow]], older: str | None, cursor: str | None) -> MessagePage:
    newer = None if cursor is None else (rows[0][0] if rows else cursor)
    return MessagePage([row for _, row in rows], older, newer)


def _shown(event: Event, sent: list[Delivery]) -> bool:
    """Hookline's own events (``hookline.…``: the operator's alerts, which may name any webhook)
    show only when sent to one of the customer's endpoints (a test message, one subscribed to)."""
    return bool(sent) or not event.type.startswith(OWN_PREFIX)


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
