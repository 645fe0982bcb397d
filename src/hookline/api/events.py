"""Publishing events and reading them back."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from hookline import publishing
from hookline.api.auth import WorkspaceId
from hookline.api.schemas import DeliveryRef, EventIn, EventOut, ListOut, PublishOut
from hookline.api.state import State
from hookline.errors import NotFound

router = APIRouter(prefix="/v1/workspaces/{ws}/events", tags=["events"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=PublishOut)
async def publish_event(
    ws: WorkspaceId, body: EventIn, state: State, response: Response
) -> PublishOut:
    """Accept an event: it and one delivery per subscribed webhook are committed before the
    answer. A repeated ``idempotency_key`` returns the first event and creates nothing."""
    result = await publishing.publish(
        state.store,
        state.router,
        ws,
        body.type,
        body.payload,
        idempotency_key=body.idempotency_key,
        now=time.time(),
    )
    if result is None:
        raise NotFound(f"workspace {ws} not found")
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return PublishOut(
        id=result.event.id,
        type=result.event.type,
        duplicate=not result.created,
        deliveries=[DeliveryRef(id=d.id, webhook_id=d.webhook_id) for d in result.deliveries],
    )


@router.get("", response_model=ListOut)
async def list_events(
    ws: WorkspaceId,
    state: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
    type: Annotated[str | None, Query(max_length=200)] = None,
) -> ListOut:
    page = await state.store.list_events(ws, limit=limit, cursor=cursor, type=type)
    return ListOut(data=[EventOut.of(e) for e in page.items], next_cursor=page.next_cursor)


@router.get("/{event_id}", response_model=EventOut)
async def get_event(ws: WorkspaceId, event_id: str, state: State) -> EventOut:
    found = await state.store.get_event(ws, event_id)
    if found is None:
        raise NotFound(f"event {event_id} not found")
    return EventOut.of(found)
