"""Event types (the catalog) and flows (named groups of webhooks)."""

from __future__ import annotations

import time
from dataclasses import replace

import jsonschema
from fastapi import APIRouter, status
from pydantic import ValidationError

from hookline.api.auth import WorkspaceId
from hookline.api.state import State
from hookline.domain.ids import new_id
from hookline.domain.models import EventType, Flow, FlowConfig
from hookline.errors import NotFound, ValidationFailed
from hookline.wire.schemas import (
    EventTypeIn,
    EventTypeOut,
    EventTypeUpdate,
    FlowIn,
    FlowOut,
    FlowUpdate,
    ListOut,
)
from hookline.wire.validation import describe

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["catalog"])


def _check_schema(schema: dict[str, object] | None, example: object) -> None:
    if schema is None:
        return
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ValidationFailed(f"schema: {exc.message}", field="schema") from None
    if example is not None:
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(schema).iter_errors(example)
        )
        if error is not None:
            raise ValidationFailed(
                f"example does not match the schema: {error.message}", field="example"
            )


@router.post("/event-types", status_code=status.HTTP_201_CREATED, response_model=EventTypeOut)
async def create_event_type(ws: WorkspaceId, body: EventTypeIn, state: State) -> EventTypeOut:
    _check_schema(body.schema_, body.example)
    now = time.time()
    et = EventType(
        id=new_id("et"),
        workspace_id=ws,
        name=body.name,
        description=body.description,
        schema=body.schema_,
        example=body.example,
        created_at=now,
        updated_at=now,
    )
    await state.store.save_event_type(et, create=True)
    return EventTypeOut.of(et)


@router.get("/event-types", response_model=ListOut)
async def list_event_types(ws: WorkspaceId, state: State) -> ListOut:
    return ListOut(data=[EventTypeOut.of(e) for e in await state.store.list_event_types(ws)])


async def _event_type(state: State, ws: str, name: str) -> EventType:
    found = await state.store.get_event_type(ws, name)
    if found is None:
        raise NotFound(f"event type {name!r} not found")
    return found


@router.get("/event-types/{name}", response_model=EventTypeOut)
async def get_event_type(ws: WorkspaceId, name: str, state: State) -> EventTypeOut:
    return EventTypeOut.of(await _event_type(state, ws, name))


@router.patch("/event-types/{name}", response_model=EventTypeOut)
async def update_event_type(
    ws: WorkspaceId, name: str, body: EventTypeUpdate, state: State
) -> EventTypeOut:
    current = await _event_type(state, ws, name)
    changes = body.model_dump(exclude_unset=True, by_alias=False)
    updated = replace(
        current,
        description=changes.get("description", current.description) or "",
        schema=changes.get("schema_", current.schema),
        example=changes.get("example", current.example),
        updated_at=time.time(),
    )
    _check_schema(updated.schema, updated.example)
    await state.store.save_event_type(updated, create=False)
    return EventTypeOut.of(updated)


@router.delete("/event-types/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_event_type(ws: WorkspaceId, name: str, state: State) -> None:
    if not await state.store.delete_event_type(ws, name):
        raise NotFound(f"event type {name!r} not found")


@router.post("/flows", status_code=status.HTTP_201_CREATED, response_model=FlowOut)
async def create_flow(ws: WorkspaceId, body: FlowIn, state: State) -> FlowOut:
    now = time.time()
    config = FlowConfig.model_validate(body.model_dump(exclude={"name", "description"}))
    flow = Flow(new_id("flow"), ws, body.name, body.description, now, now, config)
    await state.store.save_flow(flow, create=True)
    return FlowOut.of(flow)


@router.get("/flows", response_model=ListOut)
async def list_flows(ws: WorkspaceId, state: State) -> ListOut:
    return ListOut(data=[FlowOut.of(f) for f in await state.store.list_flows(ws)])


async def _flow(state: State, ws: str, flow_id: str) -> Flow:
    found = await state.store.get_flow(ws, flow_id)
    if found is None:
        raise NotFound(f"flow {flow_id} not found")
    return found


@router.get("/flows/{flow_id}", response_model=FlowOut)
async def get_flow(ws: WorkspaceId, flow_id: str, state: State) -> FlowOut:
    return FlowOut.of(await _flow(state, ws, flow_id))


@router.patch("/flows/{flow_id}", response_model=FlowOut)
async def update_flow(ws: WorkspaceId, flow_id: str, body: FlowUpdate, state: State) -> FlowOut:
    current = await _flow(state, ws, flow_id)
    changes = body.model_dump(exclude_unset=True)
    names = {k: changes.pop(k) for k in ("name", "description") if k in changes}
    try:
        config = FlowConfig.model_validate(current.config.model_dump() | changes)
    except ValidationError as exc:
        field, message = describe(exc.errors()[0])
        raise ValidationFailed(f"{field}: {message}", field=field) from None
    names = {k: v for k, v in names.items() if v is not None}
    updated = replace(current, **names, config=config, updated_at=time.time())
    await state.store.save_flow(updated, create=False)
    return FlowOut.of(updated)


@router.delete("/flows/{flow_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_flow(ws: WorkspaceId, flow_id: str, state: State) -> None:
    if not await state.store.delete_flow(ws, flow_id):
        raise NotFound(f"flow {flow_id} not found")
