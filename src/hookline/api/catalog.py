"""Event types (the catalog) and flows (named groups of webhooks): the REST adapter of
``hookline.services.catalog`` and ``hookline.services.flows``."""

from __future__ import annotations

from fastapi import APIRouter, status

from hookline.api.auth import WorkspaceId
from hookline.api.state import State
from hookline.domain.models import FlowConfig
from hookline.services import catalog, flows
from hookline.services.catalog import EventTypeDraft
from hookline.wire.schemas import (
    EventTypeIn,
    EventTypeOut,
    EventTypeUpdate,
    FlowIn,
    FlowOut,
    FlowUpdate,
    ListOut,
)

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["catalog"])


def draft(body: EventTypeIn) -> EventTypeDraft:
    """The event type a request describes."""
    return EventTypeDraft(body.name, body.description, body.schema_, body.example)


@router.post("/event-types", status_code=status.HTTP_201_CREATED, response_model=EventTypeOut)
async def create_event_type(ws: WorkspaceId, body: EventTypeIn, state: State) -> EventTypeOut:
    return EventTypeOut.of(await catalog.create_event_type(state.deps, ws, draft(body)))


@router.get("/event-types", response_model=ListOut)
async def list_event_types(ws: WorkspaceId, state: State) -> ListOut:
    found = await catalog.list_event_types(state.deps, ws)
    return ListOut(data=[EventTypeOut.of(e) for e in found])


@router.get("/event-types/{name}", response_model=EventTypeOut)
async def get_event_type(ws: WorkspaceId, name: str, state: State) -> EventTypeOut:
    return EventTypeOut.of(await catalog.get_event_type(state.deps, ws, name))


@router.patch("/event-types/{name}", response_model=EventTypeOut)
async def update_event_type(
    ws: WorkspaceId, name: str, body: EventTypeUpdate, state: State
) -> EventTypeOut:
    changes = body.model_dump(exclude_unset=True, by_alias=False)
    if "schema_" in changes:
        changes["schema"] = changes.pop("schema_")
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
