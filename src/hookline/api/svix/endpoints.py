"""Endpoints: an application's webhooks, by id or uid."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from hookline.api.svix import render, shapes
from hookline.api.svix.access import App, Svc
from hookline.api.svix.endpoint_config import ENDPOINT_FIELDS, changes_of, new_config, secret_of
from hookline.api.svix.errors import fields_named
from hookline.api.svix.paging import Iterator, Limit, cursor, page
from hookline.errors import NotFound
from hookline.services import references, webhooks
from hookline.services.deps import Deps

router = APIRouter(prefix="/app/{app_id}/endpoint", tags=["svix"])


@router.get("", operation_id="v1.endpoint.list", summary="List an application's endpoints")
async def list_endpoints(
    deps: Svc, app: App, limit: Limit = 50, iterator: Iterator = None
) -> dict[str, Any]:
    after, backwards = cursor(iterator)
    found = await webhooks.page(deps, app.id, limit=limit, cursor=after, backwards=backwards)
    return page(found.items, found.more, render.endpoint, lambda w: w.id)


async def _create(deps: Deps, ws: str, body: shapes.EndpointIn) -> shapes.EndpointOut:
    config = new_config(body)
    secret = secret_of(body.secret) or webhooks.GENERATE
    with fields_named(ENDPOINT_FIELDS):
        hook = await webhooks.create(deps, ws, config, secret)
    return render.endpoint(hook)


@router.post("", operation_id="v1.endpoint.create", summary="Create an endpoint", status_code=201)
async def create_endpoint(deps: Svc, app: App, body: shapes.EndpointIn) -> shapes.EndpointOut:
    return await _create(deps, app.id, body)


@router.get("/{endpoint_id}", operation_id="v1.endpoint.get", summary="Get an endpoint")
async def get_endpoint(deps: Svc, app: App, endpoint_id: str) -> shapes.EndpointOut:
    return render.endpoint(await references.webhook_by_ref(deps, app.id, endpoint_id))


async def _change(deps: Deps, ws: str, ref: str, changes: dict[str, Any]) -> shapes.EndpointOut:
    hook = await references.webhook_by_ref(deps, ws, ref)
    with fields_named(ENDPOINT_FIELDS):
        updated = await webhooks.update(deps, ws, hook.id, changes)
    return render.endpoint(updated)


@router.put(
    "/{endpoint_id}",
    operation_id="v1.endpoint.update",
    summary="Update an endpoint (or create it with this uid)",
    responses={201: {"model": shapes.EndpointOut, "description": "Created"}},
)
async def update_endpoint(
    deps: Svc, app: App, endpoint_id: str, body: shapes.EndpointUpdate, response: Response
) -> shapes.EndpointOut:
    try:
        return await _change(deps, app.id, endpoint_id, changes_of(body, whole=True))
    except NotFound:
        if body.uid not in (None, endpoint_id):
            raise
        response.status_code = 201
        return await _create(deps, app.id, body.model_copy(update={"uid": endpoint_id}))


@router.patch("/{endpoint_id}", operation_id="patch_endpoint", summary="Patch an endpoint")
async def patch_endpoint(
    deps: Svc, app: App, endpoint_id: str, body: shapes.EndpointPatch
) -> shapes.EndpointOut:
    out = await _change(deps, app.id, endpoint_id, changes_of(body, whole=False))
    if body.secret is not None:
        await webhooks.rotate_secret(deps, app.id, out.id, secret_of(body.secret), 0)
    return out


@router.delete(
    "/{endpoint_id}",
    operation_id="v1.endpoint.delete",
    summary="Delete an endpoint",
    status_code=204,
)
async def delete_endpoint(deps: Svc, app: App, endpoint_id: str) -> Response:
    hook = await references.webhook_by_ref(deps, app.id, endpoint_id)
    await webhooks.delete(deps, app.id, hook.id)
    return Response(status_code=204)
