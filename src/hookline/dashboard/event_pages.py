"""Events: a searchable list (by type, by id, or by text among the latest events: see
``hookline.services.events``), and one event with its deliveries across webhooks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from hookline.dashboard.web import PageRoute, Visitor, visitor
from hookline.services import events
from hookline.services.events import TEXT_SCAN

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Who = Annotated[Visitor, Depends(visitor)]
_PAGE = 50


@router.get("/events")
async def list_page(
    who: Who,
    q: Annotated[str, Query(max_length=200)] = "",
    by: str = "type",
    cursor: str | None = None,
) -> Response:
    q, deps, next_cursor = q.strip(), who.state.deps, None
    if q and by == "id":
        one = await events.find_event(deps, who.ws, q)
        found = [one] if one else []
    elif q and by == "text":
        found = await events.search_text(deps, who.ws, q, limit=_PAGE)
    else:
        page = await events.list_events(deps, who.ws, limit=_PAGE, cursor=cursor, type=q or None)
        found, next_cursor = page.items, page.next_cursor
    return who.page(
        "events.html",
        events=found,
        q=q,
        by=by,
        next_cursor=next_cursor,
        scanned=TEXT_SCAN,
        nav="events",
    )


@router.get("/events/{event_id}")
async def event_page(who: Who, event_id: str) -> Response:
    trail = await events.event_trail(who.state.deps, who.ws, event_id)
    return who.page(
        "event.html",
        event=trail.event,
        deliveries=trail.deliveries,
        names=trail.webhook_names,
        nav="events",
    )
