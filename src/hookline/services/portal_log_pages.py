"""Reading the customer portal's message log page by page, past what the store cannot select.

The store pages the log with its cursors (``hookline.store.LogQuery``) and selects what it can:
exact event types, a delivery status of one endpoint's deliveries. What it cannot (a link's
``prefix.*`` patterns, a delivery status across endpoints, deliveries to the customer's own
endpoints only) is filtered here while reading on, at most :data:`SCAN_PAGES` store pages per
page shown; a page cut short that way still links on to the rest.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from hookline.domain.models import Delivery, DeliveryStatus, Event, Webhook, event_matches
from hookline.domain.portal_access import Customer
from hookline.domain.records import record
from hookline.services.deps import Deps
from hookline.services.portal_endpoints import visible
from hookline.store import LogDelivery, LogQuery

#: Store pages read at most for one page of the message log when filtering here.
SCAN_PAGES = 10
#: The types of Hookline's own events (``hookline.delivery.notices``).
OWN_PREFIX = "hookline."
#: Deliveries of one event shown at most (one per endpoint it was sent to).
EVENT_DELIVERIES = 200


@record
class MessageFilter:
    """What the message log shows: one endpoint's deliveries, a delivery status, an event type
    (a name or a ``prefix.*`` pattern), a time range; None: any."""

    endpoint_id: str | None = None
    status: DeliveryStatus | None = None
    event_type: str | None = None
    since: float | None = None
    """Messages received at or after this time (a message's delivery, for one endpoint's)."""
    until: float | None = None
    """Messages received before this time."""


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
class Read:
    """A store page as cursor ids, each with its row (None: not shown), and whether more lie
    beyond it in the direction it was read."""

    items: list[tuple[str, MessageRow | None]]
    more: bool


Fetch = Callable[[str | None, bool], Awaitable[Read]]


class Hooks:
    """The customer's endpoints by id, each read once."""

    def __init__(self, deps: Deps, customer: Customer) -> None:
        self._deps, self._customer, self._ws = deps, customer, customer.workspace_id
        self._known: dict[str, Webhook | None] = {}

    async def get(self, webhook_id: str) -> Webhook | None:
        if webhook_id not in self._known:
            found = await self._deps.store.config.get_webhook(self._ws, webhook_id)
            self._known[webhook_id] = (
                found if found is not None and visible(found, self._customer) else None
            )
        return self._known[webhook_id]


class Scan:
    """The message log's sources and the rows kept from them."""

    def __init__(self, deps: Deps, customer: Customer, wanted: MessageFilter) -> None:
        self.deps, self.customer, self.wanted = deps, customer, wanted
        self.ws = customer.workspace_id
        self.hooks = Hooks(deps, customer)

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

    def events(self, query: LogQuery) -> Fetch:
        """Every message; with a status, those with a delivery in that status."""
        status = self.wanted.status

        async def row(event: Event) -> MessageRow | None:
            if not self.wants(event):
                return None
            sent = await self._deliveries_of(event)
            if not shown(event, sent):
                return None
            if status is not None and all(d.status is not status for d in sent):
                return None
            return MessageRow(event, sent)

        async def fetch(cursor: str | None, backwards: bool) -> Read:
            q = replace(query, cursor=cursor, backwards=backwards)
            page = await self.deps.store.log.list_events(self.ws, q)
            return Read([(e.id, await row(e)) for e in page.items], page.more)

        return fetch

    def webhook_deliveries(self, hook: Webhook, query: LogQuery) -> Fetch:
        """The endpoint's deliveries (the store selects their status)."""

        def row(item: LogDelivery) -> MessageRow | None:
            return MessageRow(item.event, [item.delivery]) if self.wants(item.event) else None

        async def fetch(cursor: str | None, backwards: bool) -> Read:
            q = replace(query, cursor=cursor, backwards=backwards)
            page = await self.deps.store.log.list_webhook_deliveries(self.ws, hook.id, q)
            return Read([(i.delivery.id, row(i)) for i in page.items], page.more)

        return fetch

    async def _deliveries_of(self, event: Event) -> list[Delivery]:
        page = await self.deps.store.log.list_event_deliveries(
            self.ws, event.id, LogQuery(limit=EVENT_DELIVERIES)
        )
        return [d for d in reversed(page.items) if await self.hooks.get(d.webhook_id)]


async def forward(fetch: Fetch, cursor: str | None, limit: int) -> MessagePage:
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
                return page_of(rows, key if more else None, cursor)
        if not read.more or not read.items:
            return page_of(rows, None, cursor)
    return page_of(rows, at, cursor)  # read as far as one page may: the rest is older


async def back(fetch: Fetch, cursor: str, limit: int) -> MessagePage | None:
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


def page_of(
    rows: list[tuple[str, MessageRow]], older: str | None, cursor: str | None
) -> MessagePage:
    newer = None if cursor is None else (rows[0][0] if rows else cursor)
    return MessagePage([row for _, row in rows], older, newer)


def shown(event: Event, sent: list[Delivery]) -> bool:
    """Hookline's own events (``hookline.…``: the operator's alerts, which may name any webhook)
    show only when sent to one of the customer's endpoints (a test message, one subscribed to)."""
    return bool(sent) or not event.type.startswith(OWN_PREFIX)
