"""Event types: the instance-wide catalog every application sees (Svix's event types belong to
the organisation), with versioned JSON schemas. Reading is open to every token; changing it
needs the admin token or an operator key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from hookline.api.svix import render, shapes
from hookline.api.svix.access import Svc, Who
from hookline.api.svix.paging import Iterator, Limit, cursor, page
from hookline.domain.models import EventType
from hookline.services import shared_catalog
from hookline.services.catalog_entries import EventTypeDraft
from hookline.services.workspaces import require_admin

router = APIRouter(prefix="/event-type", tags=["svix"])


def _flags(body: shapes.EventTypeIn | shapes.EventTypeUpdate | shapes.EventTypePatch) -> tuple[
    str, ...
]:  # fmt: skip
    flags = list(body.feature_flags or ())
    if body.feature_flag and body.feature_flag not in flags:
        flags.insert(0, body.feature_flag)
    return tuple(flags)


def _draft(name: str, body: shapes.EventTypeIn | shapes.EventTypeUpdate) -> EventTypeDraft:
    return EventTypeDraft(
        name=name, description=body.description, schemas=body.schemas, archived=body.archived,
        deprecated=body.deprecated, feature_flags=_flags(body), group_name=body.group_name,
    )  # fmt: skip


@router.get("", operation_id="v1.event-type.list", summary="List event types by name")
async def list_event_types(
    deps: Svc,
    who: Who,
    limit: Limit = 50,
    iterator: Iterator = None,
    include_archived: Annotated[bool, Query()] = False,
    with_content: Annotated[bool, Query(description="Include each type's schemas")] = False,
) -> dict[str, Any]:
    start, backwards = cursor(iterator)
    found = await shared_catalog.list_shared_event_types(
        deps, limit=limit, include_archived=include_archived,
        after=None if backwards else start, before=start if backwards else None,
    )  # fmt: skip

    def out(et: EventType) -> shapes.EventTypeOut:
        shown = render.event_type(et)
        return shown if with_content else shown.model_copy(update={"schemas": None})

    return page(found.items, found.next_cursor is not None, out, lambda et: et.name)


@router.post(
    "", operation_id="v1.event-type.create", summary="Create an event type", status_code=201
)
async def create_event_type(deps: Svc, who: Who, body: shapes.EventTypeIn) -> shapes.EventTypeOut:
    require_admin(who)
    created = await shared_catalog.create_shared_event_type(deps, _draft(body.name, body))
    return render.event_type(created)


@router.get("/{event_type_name}", operation_id="v1.event-type.get", summary="Get an event type")
async def get_event_type(deps: Svc, who: Who, event_type_name: str) -> shapes.EventTypeOut:
    return render.event_type(await shared_catalog.get_shared_event_type(deps, event_type_name))


@router.put(
    "/{event_type_name}",
    operation_id="v1.event-type.update",
    summary="Replace an event type (or create it)",
    responses={201: {"model": shapes.EventTypeOut, "description": "Created"}},
)
async def update_event_type(
    deps: Svc, who: Who, event_type_name: str, body: shapes.EventTypeUpdate, response: Response
) -> shapes.EventTypeOut:
    require_admin(who)
    found, created = await shared_catalog.put_shared_event_type(
        deps, event_type_name, _draft(event_type_name, body)
    )
    response.status_code = 201 if created else 200
    return render.event_type(found)


@router.patch("/{event_type_name}", operation_id="patch_event_type", summary="Patch an event type")
async def patch_event_type(
    deps: Svc, who: Who, event_type_name: str, body: shapes.EventTypePatch
) -> shapes.EventTypeOut:
    require_admin(who)
    changes = body.model_dump(exclude_unset=True, exclude={"feature_flag", "feature_flags"})
    if body.model_fields_set & {"feature_flag", "feature_flags"}:
        changes["feature_flags"] = _flags(body)
    found = await shared_catalog.update_shared_event_type(deps, event_type_name, changes)
    return render.event_type(found)


@router.delete(
    "/{event_type_name}",
    operation_id="v1.event-type.delete",
    summary="Archive an event type (or remove it with expunge=true)",
    status_code=204,
)
async def delete_event_type(
    deps: Svc,
    who: Who,
    event_type_name: str,
    expunge: Annotated[bool, Query(description="Remove it for good")] = False,
) -> Response:
    require_admin(who)
    await shared_catalog.delete_shared_event_type(deps, event_type_name, expunge=expunge)
    return Response(status_code=204)
