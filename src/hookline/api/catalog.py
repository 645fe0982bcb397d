"""Event types (the catalog) and flows (named groups of webhooks): the REST adapter of
``hookline.services.catalog`` and ``hookline.services.flows``. A workspace's catalog lists the
shared entries beside its own (``shared: true``); the shared catalog itself is
``hookline.api.shared_catalog``'s."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from hookline.api.auth import WorkspaceId
from hookline.api.state import State
from hookline.domain.models import FlowConfig
from hookline.services import catalog, flows
from hookline.wire.event_types import EventTypeIn, EventTypeOut, EventTypeUpdate
from hookline.wire.schemas import FlowIn, FlowOut, FlowUpdate, ListOut

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["catalog"])
_ARCHIVED = Query(description="Include the archived entries.")


@router.post("/event-types", status_code=status.HTTP_201_CREATED, response_model=EventTypeOut)
async def create_event_type(ws: WorkspaceId, body: EventTypeIn, state: State) -> EventTypeOut:
    return EventTypeOut.of(await catalog.create_event_type(state.deps, ws, body.to_draft()))


@router.get("/event-types", response_model=ListOut)
async def list_event_types(
    ws: WorkspaceId, state: State, include_archived: Annotated[bool, _ARCHIVED] = False
) -> ListOut:
    """The workspace's entries and the shared catalog's (``shared: true``), by name; of two
    with the same name, the workspace's own."""
    found = await catalog.list_event_types(state.deps, ws, include_archived=include_archived)
    return ListOut(data=[EventTypeOut.of(e) for e in found])


@router.get("/event-types/{name}", response_model=EventTypeOut)
async def get_event_type(ws: WorkspaceId, name: str, state: State) -> EventTypeOut:
    return EventTypeOut.of(await catalog.get_event_type(state.deps, ws, name))


@router.patch("/event-types/{name}", response_model=EventTypeOut)
async def update_event_type(
    ws: WorkspaceId, name: str, body: EventTypeUpdate, state: State
) -> EventTypeOut:
    """Change the fields sent of the workspace's own entry (a shared one: 403
    ``shared_event_type``). ``schema`` replaces the newest version, ``schemas`` all of them."""
    changes = body.changes()
    return EventTypeOut.of(await catalog.update_event_type(state.deps, ws, name, changes))


@router.delete("/event-types/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_event_type(ws: WorkspaceId, name: str, state: State) -> None:
    await catalog.delete_event_type(state.deps, ws, name)


@router.post("/flows", status_code=status.HTTP_201_CREATED, response_model=FlowOut)
async def create_flow(ws: WorkspaceId, body: FlowIn, state: State) -> FlowOut:
    config = FlowConfig.model_validate(body.model_dump(exclude={"name", "description"}))
    created = await flows.create_flow(state.deps, ws, body.name, body.description, config)
    return FlowOut.of(created)


@router.get("/flows", response_model=ListOut)
async def list_flows(ws: WorkspaceId, state: State) -> ListOut:
    return ListOut(data=[FlowOut.of(f) for f in await flows.list_flows(state.deps, ws)])


@router.get("/flows/{flow_id}", response_model=FlowOut)
async def get_flow(ws: WorkspaceId, flow_id: str, state: State) -> FlowOut:
    return FlowOut.of(await flows.get_flow(state.deps, ws, flow_id))


@router.patch("/flows/{flow_id}", response_model=FlowOut)
async def update_flow(ws: WorkspaceId, flow_id: str, body: FlowUpdate, state: State) -> FlowOut:
    changes = body.model_dump(exclude_unset=True)
    return FlowOut.of(await flows.update_flow(state.deps, ws, flow_id, changes))


@router.delete("/flows/{flow_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_flow(ws: WorkspaceId, flow_id: str, state: State) -> None:
    await flows.delete_flow(state.deps, ws, flow_id)
