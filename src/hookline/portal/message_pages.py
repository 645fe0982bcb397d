"""The portal's message log: the customer's messages newest first (filtered by endpoint, status,
event type and time range, paged with the store's cursors; a message id goes to its page), one
message with every attempt of each of its deliveries, and retrying a delivery. Every rule of
what a customer sees is in ``services.portal_messages``; these pages only read the query and
draw.

A delivery's section (``_delivery.html``) is also a fragment: the Retry button swaps it for the
refreshed one, which reloads itself while the delivery is pending.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from hookline.domain.models import DeliveryStatus
from hookline.errors import ValidationFailed
from hookline.portal.times import local, utc
from hookline.portal.web import PortalRoute, Visit, visit
from hookline.services import portal_endpoints, portal_messages
from hookline.services.portal_log_pages import MessageFilter
from hookline.services.portal_messages import Sent
from hookline.wire.schemas import AttemptOut

router = APIRouter(route_class=PortalRoute, include_in_schema=False)
On = Annotated[Visit, Depends(visit)]
LIST_PATH = "/portal/messages"
PAGE_SIZE = 50
_Text = Annotated[str, Query(max_length=200)]
_Cursor = Annotated[str | None, Query(max_length=64)]


@router.get(LIST_PATH)
async def messages_page(
    on: On,
    endpoint: _Text = "",
    status: _Text = "",
    type: _Text = "",
    since: _Text = "",
    until: _Text = "",
    id: _Cursor = None,
    older: _Cursor = None,
    newer: _Cursor = None,
) -> Response:
    if id and id.strip():  # "Go to a message": its page, or "not found"
        return await message_page(on, id.strip())
    problems: dict[str, str] = {}
    times = {name: utc(text.strip(), name, problems) for name, text in
             (("since", since), ("until", until)) if text.strip()}  # fmt: skip
    if problems:
        raise ValidationFailed("; ".join(f"{k}: {v}" for k, v in problems.items()))
    wanted = portal_messages.message_filter(endpoint.strip(), status.strip(), type.strip(), **times)
    found = await portal_messages.list_messages(
        on.deps,
        on.customer,
        wanted,
        cursor=newer or older,
        backwards=newer is not None,
        limit=PAGE_SIZE,
    )
    hooks = await portal_endpoints.endpoints(on.deps, on.customer)
    query = _query(wanted)
    return on.page(
        "messages.html",
        path=_at(_query(wanted, older=older or "")),
        page=found,
        hooks=hooks,
        names={hook.id: hook.config.name for hook in hooks},
        wanted=wanted,
        since="" if wanted.since is None else local(wanted.since),
        until="" if wanted.until is None else local(wanted.until),
        statuses=[s.value for s in DeliveryStatus],
        query=query,
        nav="messages",
    )


@router.get(LIST_PATH + "/{event_id}")
async def message_page(on: On, event_id: str) -> Response:
    event, sent = await portal_messages.message(on.deps, on.customer, event_id)
    return on.page(
        "message.html",
        path=f"{LIST_PATH}/{quote(event.id)}",
        event=event,
        sections=[_section(s) for s in sent],
        notice=None,
        nav="messages",
    )


@router.get("/portal/deliveries/{delivery_id}")
async def delivery_fragment(on: On, delivery_id: str) -> Response:
    """A delivery's section, which reloads itself while the delivery is pending."""
    sent = await portal_messages.delivery(on.deps, on.customer, delivery_id)
    return on.fragment("_delivery.html", section=_section(sent), notice=None)


@router.post("/portal/deliveries/{delivery_id}/retry")
async def retry(on: On, delivery_id: str) -> Response:
    await portal_messages.retry(on.deps, on.customer, delivery_id)
    sent = await portal_messages.delivery(on.deps, on.customer, delivery_id)
    notice = "Queued again: it is being sent now."
    return on.fragment("_delivery.html", section=_section(sent), notice=notice)


def _section(sent: Sent) -> dict[str, object]:
    """What a delivery's section draws: its attempts newest first, as the API shows them."""
    attempts = [AttemptOut.of(a) for a in reversed(sent.attempts)]
    return {"delivery": sent.delivery, "endpoint": sent.endpoint, "attempts": attempts}


def _query(wanted: MessageFilter, **more: str) -> str:
    """The filter (and ``more``) as query parameters, blanks left out."""
    fields = {
        "endpoint": wanted.endpoint_id or "",
        "status": wanted.status.value if wanted.status else "",
        "type": wanted.event_type or "",
        "since": "" if wanted.since is None else local(wanted.since),
        "until": "" if wanted.until is None else local(wanted.until),
        **more,
    }
    return urlencode({k: v for k, v in fields.items() if v}, quote_via=quote)


def _at(query: str) -> str:
    return f"{LIST_PATH}?{query}" if query else LIST_PATH
