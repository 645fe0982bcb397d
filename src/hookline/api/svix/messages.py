"""Messages: Hookline's events. ``eventId`` is the event's idempotency key and its uid."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from hookline.api.auth import authenticate
from hookline.api.svix import render, shapes
from hookline.api.svix.access import App, Svc, resolve_or_create
from hookline.api.svix.errors import fields_named
from hookline.api.svix.filters import Messages, WithContent
from hookline.api.svix.paging import page
from hookline.domain.models import Event
from hookline.errors import Conflict
from hookline.services import log, publishing, references

router = APIRouter(prefix="/app/{app_id}/msg", tags=["svix"])


@router.post(
    "",
    operation_id="v1.message.create",
    summary="Send a message to every endpoint subscribed to its type (and channels)",
    status_code=202,
)
async def create_message(
    request: Request,
    deps: Svc,
    app_id: Annotated[str, Path(description="The application's id or uid")],
    body: shapes.MessageIn,
    with_content: WithContent = True,
) -> shapes.MessageOut:
    who = await authenticate(request)
    app = await resolve_or_create(deps, who, app_id, body.application)
    with fields_named({"type": "eventType"}):  # the catalog's checks name Hookline's fields
        result = await publishing.publish_event(
            deps, app.id, body.event_type, body.payload, body.event_id,
            channels=body.channels or (), tags=body.tags or (), headers=request.headers,
        )  # fmt: skip
    if not result.created:
        raise Conflict(f"a message with eventId {body.event_id!r} exists")
    return render.message(result.event, with_content)


@router.get("", operation_id="v1.message.list", summary="List messages, newest first")
async def list_messages(
    deps: Svc, app: App, query: Messages, with_content: WithContent = True
) -> dict[str, Any]:
    found = await log.list_events(deps, app.id, query)

    def out(event: Event) -> shapes.MessageOut:
        return render.message(event, with_content)

    return page(found.items, found.more, out, lambda e: e.id)


@router.get("/{msg_id}", operation_id="v1.message.get", summary="Get a message (id or eventId)")
async def get_message(
    deps: Svc, app: App, msg_id: str, with_content: WithContent = True
) -> shapes.MessageOut:
    return render.message(await references.event_by_ref(deps, app.id, msg_id), with_content)


@router.delete(
    "/{msg_id}/content",
    operation_id="v1.message.expunge-content",
    summary="Forget a message's payload",
    status_code=204,
)
async def expunge_content(deps: Svc, app: App, msg_id: str) -> Response:
    await log.expunge_event(deps, app.id, msg_id)
    return Response(status_code=204)
