"""The shared catalog: event types every workspace sees beside its own, changed by the admin
only. The REST adapter of ``hookline.services.shared_catalog``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from hookline.api.auth import Principal, admin_only
from hookline.api.state import State
from hookline.services import shared_catalog
from hookline.wire.event_types import (
    EventTypeBody,
    EventTypeOut,
    EventTypeUpdate,
    SharedEventTypeIn,
)
from hookline.wire.schemas import ListOut

router = APIRouter(prefix="/v1/event-types", tags=["catalog"])
Admin = Annotated[Principal, Depends(admin_only)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=EventTypeOut)
async def create_shared_event_type(body: SharedEventTypeIn, state: State, _: Admin) -> EventTypeOut:
    """A new entry of the shared catalog (409 when its name is taken; an archived entry of
    that name is brought back with this definition)."""
    created = await shared_catalog.create_shared_event_type(state.deps, body.to_draft())
    return EventTypeOut.of(created)


@router.get("", response_model=ListOut)
async def list_shared_event_types(
    state: State,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=250)] = 50,
    cursor: Annotated[str | None, Query(max_length=200, description="The last name seen.")] = None,
    include_archived: bool = False,
) -> ListOut:
    """The shared catalog by name, a page at a time (``next_cursor``: the last name)."""
    page = await shared_catalog.list_shared_event_types(
        state.deps, limit=limit, after=cursor, include_archived=include_archived
    )
    return ListOut(data=[EventTypeOut.of(e) for e in page.items], next_cursor=page.next_cursor)


@router.get("/{name}", response_model=EventTypeOut)
async def get_shared_event_type(name: str, state: State, _: Admin) -> EventTypeOut:
    return EventTypeOut.of(await shared_catalog.get_shared_event_type(state.deps, name))


@router.patch("/{name}", response_model=EventTypeOut)
async def update_shared_event_type(
    name: str, body: EventTypeUpdate, state: State, _: Admin
) -> EventTypeOut:
    """Change the fields sent; ``schema`` replaces the newest version, ``schemas`` all."""
    changes = body.changes()
    return EventTypeOut.of(await shared_catalog.update_shared_event_type(state.deps, name, changes))


@router.put(
    "/{name}",
    response_model=EventTypeOut,
    responses={201: {"model": EventTypeOut, "description": "Created"}},
)
async def put_shared_event_type(
    name: str, body: EventTypeBody, state: State, response: Response, _: Admin
) -> EventTypeOut:
    """Replace the entry whole (fields not sent take their defaults), or create it (201)."""
    et, created = await shared_catalog.put_shared_event_type(state.deps, name, body.draft(name))
    if created:
        response.status_code = status.HTTP_201_CREATED
    return EventTypeOut.of(et)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_shared_event_type(
    name: str,
    state: State,
    _: Admin,
    expunge: Annotated[
        bool, Query(description="Remove it for good instead of archiving it.")
    ] = False,
) -> None:
    """Archive the entry (hidden from listings unless asked for, unknown to strict
    workspaces), or remove it with ``expunge``."""
    await shared_catalog.delete_shared_event_type(state.deps, name, expunge=expunge)
