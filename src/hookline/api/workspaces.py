"""Workspaces (admin) and their API keys: the REST adapter of ``hookline.services.workspaces``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from hookline.api.auth import Principal, WorkspaceId, admin_only
from hookline.api.state import State
from hookline.domain.workspace_fields import WorkspaceDraft
from hookline.services import applications, workspace_removal, workspaces
from hookline.wire.schemas import (
    ApiKeyIn,
    ApiKeyOut,
    ListOut,
    WorkspaceCreated,
    WorkspaceIn,
    WorkspaceOut,
    WorkspaceUpdate,
)

router = APIRouter(prefix="/v1/workspaces", tags=["workspaces"])
Admin = Annotated[Principal, Depends(admin_only)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WorkspaceCreated)
async def create_workspace(body: WorkspaceIn, state: State, _: Admin) -> WorkspaceCreated:
    draft = WorkspaceDraft(body.name, body.uid, body.metadata, body.throttle_rate)
    workspace, token = await workspaces.create_workspace(state.store, body.name, draft)
    return WorkspaceCreated(**WorkspaceOut.of(workspace).model_dump(), api_key=token)


@router.get("", response_model=ListOut)
async def list_workspaces(state: State, _: Admin) -> ListOut:
    return ListOut(data=[WorkspaceOut.of(w) for w in await workspaces.list_workspaces(state.deps)])


@router.get("/{ws}", response_model=WorkspaceOut)
async def get_workspace(ws: WorkspaceId, state: State) -> WorkspaceOut:
    return WorkspaceOut.of(await workspaces.get_workspace(state.deps, ws))


@router.patch("/{ws}", response_model=WorkspaceOut)
async def update_workspace(
    ws: WorkspaceId, body: WorkspaceUpdate, state: State, _: Admin
) -> WorkspaceOut:
    """Change its name, uid, metadata, throttle rate or ``strict_event_types`` (the admin's);
    a null ``uid`` or ``throttle_rate`` clears it."""
    current = await workspaces.get_workspace(state.deps, ws)
    changes = body.model_dump(exclude_unset=True)
    for required in ("name", "strict_event_types", "metadata"):
        if changes.get(required, "") is None:
            del changes[required]
    return WorkspaceOut.of(await applications.update(state.deps, current, changes))


@router.delete("/{ws}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_workspace(
    ws: WorkspaceId,
    state: State,
    who: Admin,
    force: Annotated[
        bool, Query(description="Delete it even with deliveries pending (they are dropped).")
    ] = False,
) -> None:
    """Delete the workspace and everything in it: webhooks, flows, its event types, events,
    deliveries and attempts, entities, bins, API keys. 409 ``deliveries_in_flight`` while any
    delivery is pending, unless ``force``."""
    await workspace_removal.delete_workspace(state.deps, who, ws, force)


@router.post("/{ws}/api-keys", status_code=status.HTTP_201_CREATED, response_model=ApiKeyOut)
async def create_api_key(ws: WorkspaceId, body: ApiKeyIn, state: State) -> ApiKeyOut:
    key, token = await workspaces.create_api_key(state.deps, ws, body.name)
    return ApiKeyOut.of(key, token)


@router.get("/{ws}/api-keys", response_model=ListOut)
async def list_api_keys(ws: WorkspaceId, state: State) -> ListOut:
    return ListOut(data=[ApiKeyOut.of(k) for k in await workspaces.list_api_keys(state.deps, ws)])


@router.delete("/{ws}/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(ws: WorkspaceId, key_id: str, state: State) -> None:
    await workspaces.revoke_api_key(state.deps, ws, key_id)
    state.api_keys.forget(key_id)  # other processes stop trusting it within their cache's TTL
