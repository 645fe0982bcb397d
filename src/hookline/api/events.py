"""Publishing events and reading them back: the REST adapter of
``hookline.services.publishing`` and ``hookline.services.events``."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response, status

from hookline.api.auth import WorkspaceId
from hookline.api.lean_route import LeanRoute
from hookline.api.state import State, get_state
from hookline.runtime import tracing
from hookline.services import events, publishing
from hookline.store import PublishResult
from hookline.wire.schemas import (
    EventBatchIn,
    EventIn,
    EventOut,
    ListOut,
    PublishBatchOut,
    PublishOut,
)

router = APIRouter(prefix="/v1/workspaces/{ws}/events", tags=["events"])
# The publish routes: their requests skip FastAPI's generic parameter resolution (LeanRoute).
publishing_router = APIRouter(
    prefix="/v1/workspaces/{ws}/events", tags=["events"], route_class=LeanRoute
)


@publishing_router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PublishOut,
    responses={200: {"model": PublishOut, "description": "A repeated `idempotency_key`"}},
)
async def publish_event(ws: WorkspaceId, body: EventIn, request: Request) -> Response:
    """Accept an event: it and one delivery per subscribed webhook are committed before the
    answer. A repeated ``idempotency_key`` returns the first event and creates nothing (200).

    Concurrent publishes share database transactions (group commit): each is answered once
    the transaction holding its event has committed."""
    # The state comes from the request rather than a dependency, and the answer is encoded
    # here rather than validated against the response model: this is the hottest route.
    deps = get_state(request).deps
    # The publish's span continues the request's W3C trace context (headers read only then).
    headers = None if tracing.active is None else request.headers
    result = await publishing.publish_event(
        deps, ws, body.type, body.payload, body.idempotency_key, headers=headers
    )
    code = status.HTTP_202_ACCEPTED if result.created else status.HTTP_200_OK
    return _json(_published(result), code)


@publishing_router.post(
    "/batch",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PublishBatchOut,
    summary="Publish a batch of events",
)
async def publish_events(ws: WorkspaceId, body: EventBatchIn, request: Request) -> Response:
    """Accept 1 to 1,000 events at once: all of them and all their deliveries are committed in
    one transaction before the answer, or none is. The answer has one entry per event, in the
    request's order, shaped as the single publish's; ``duplicate`` marks an idempotent repeat
    (of an earlier request, or of an earlier event of this batch with the same key). Each
    event's payload is held to the single request's size limit."""
    batch = [publishing.NewEvent(e.type, e.payload, e.idempotency_key) for e in body.events]
    results = await publishing.publish_events(
        get_state(request).deps, ws, batch, headers=request.headers
    )
    return _json({"data": [_published(r) for r in results]}, status.HTTP_202_ACCEPTED)


def single_publish_route() -> LeanRoute:
    """The route of ``publish_event``, which ``hookline.api.direct_route`` serves directly."""
    for route in publishing_router.routes:
        if isinstance(route, LeanRoute) and route.endpoint is publish_event:
            return route
    raise LookupError("publish_event has no route")  # pragma: no cover - declared above


def _published(result: PublishResult) -> dict[str, Any]:
    """A ``PublishOut`` as JSON."""
    return {
        "id": result.event.id,
        "type": result.event.type,
        "duplicate": not result.created,
        "deliveries": [{"id": d.id, "webhook_id": d.webhook_id} for d in result.deliveries],
    }


def _json(content: Any, status_code: int) -> Response:
    return Response(orjson.dumps(content), status_code, media_type="application/json")


@router.get("", response_model=ListOut)
async def list_events(
    ws: WorkspaceId,
    state: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
    type: Annotated[str | None, Query(max_length=200)] = None,
) -> ListOut:
    page = await events.list_events(state.deps, ws, limit=limit, cursor=cursor, type=type)
    return ListOut(data=[EventOut.of(e) for e in page.items], next_cursor=page.next_cursor)


@router.get("/{event_id}", response_model=EventOut)
async def get_event(ws: WorkspaceId, event_id: str, state: State) -> EventOut:
    return EventOut.of(await events.get_event(state.deps, ws, event_id))
