"""Messages: Hookline's events. ``eventId`` is the event's idempotency key and its uid."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from hookline.api.auth import authenticate
from hookline.api.svix import render, shapes
from hookline.api.svix.access import App, Svc
from hookline.api.svix.errors import fields_named
from hookline.api.svix.filters import Messages, WithContent
from hookline.api.svix.paging import page
from hookline.domain.models import Event, Workspace
from hookline.domain.workspace_fields import WorkspaceDraft
from hookline.errors import Conflict, NotFound, ValidationFailed
from hookline.services import applications, log, publishing, references
from hookline.services.deps import Deps
from hookline.services.workspaces import Principal

router = APIRouter(prefix="/app/{app_id}/msg", tags=["svix"])


async def _application(deps: Deps, who: Principal, ref: str, body: shapes.MessageIn) -> Workspace:
    """The path's application; created from the body's ``application`` when it names the same
    uid and does not exist yet (as Svix does)."""
    try:
        return await applications.resolve(deps, who, ref)
    except NotFound:
        given = body.application
        if given is None:
            raise
        if given.uid not in (None, ref):
            raise ValidationFailed(
                "application.uid: must be the application uid of the path",
                field="application.uid", code="application_uid_mismatch",
            ) from None  # fmt: skip
        draft = WorkspaceDraft(given.name, ref, given.metadata, given.rate)
        return (await applications.get_or_create(deps, who, draft))[0]


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
    app = await _application(deps, who, app_id, body)
    with fields_named({"type": "eventType"}):  # the catalog's checks name Hookline's fields
        result = await publishing.publish_event(
            deps, app.id, body.event_type, body.payload, body.event_id,
            channels=body.channels or (), tags=body.tags or (),
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
