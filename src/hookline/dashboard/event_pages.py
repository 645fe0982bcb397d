"""Events: a searchable list, and one event with its deliveries across webhooks.

Searching by type and by id uses the store's operations; the store has no payload text search
yet, so text is looked for in the latest ``TEXT_SCAN`` events of the workspace.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from hookline.dashboard.web import PageRoute, Visitor, visitor
from hookline.domain.models import Event
from hookline.errors import NotFound
from hookline.store import DeliveryQuery

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Who = Annotated[Visitor, Depends(visitor)]
TEXT_SCAN = 1000
_PAGE = 50


async def _by_text(who: Visitor, text: str) -> list[Event]:
    needle, found, cursor = text.casefold(), list[Event](), None
    for _ in range(TEXT_SCAN // 250):
        page = await who.state.store.list_events(who.ws, limit=250, cursor=cursor)
        found += [e for e in page.items if needle in e.body.casefold()]
        if page.next_cursor is None or len(found) >= _PAGE:
            break
        cursor = page.next_cursor
    return found[:_PAGE]


@router.get("/events")
async def list_page(
    who: Who,
    q: Annotated[str, Query(max_length=200)] = "",
    by: str = "type",
    cursor: str | None = None,
) -> Response:
    q, store, next_cursor = q.strip(), who.state.store, None
    if q and by == "id":
        one = await store.get_event(who.ws, q)
        events = [one] if one else []
    elif q and by == "text":
        events = await _by_text(who, q)
    else:
        page = await store.list_events(who.ws, limit=_PAGE, cursor=cursor, type=q or None)
        events, next_cursor = page.items, page.next_cursor
    return who.page(
        "events.html",
        events=events,
        q=q,
        by=by,
        next_cursor=next_cursor,
        scanned=TEXT_SCAN,
        nav="events",
    )


@router.get("/events/{event_id}")
async def event_page(who: Who, event_id: str) -> Response:
    store = who.state.store
    event = await store.get_event(who.ws, event_id)
    if event is None:
        raise NotFound(f"event {event_id} not found")
    page = await store.list_deliveries(who.ws, DeliveryQuery(event_id=event_id, limit=200))
    names = {}
    for webhook_id in {d.webhook_id for d in page.items}:
        hook = await store.get_webhook(who.ws, webhook_id)
        names[webhook_id] = hook.config.name if hook else f"{webhook_id} (deleted)"
    return who.page("event.html", event=event, deliveries=page.items, names=names, nav="events")
