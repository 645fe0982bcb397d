"""Applications: Hookline's workspaces, by id or uid."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from hookline.api.svix import render, shapes
from hookline.api.svix.access import App, Svc, Who
from hookline.api.svix.paging import Iterator, Limit, cursor, page
from hookline.domain.workspace_fields import WorkspaceDraft
from hookline.errors import NotFound
from hookline.services import applications, workspace_removal

router = APIRouter(prefix="/app", tags=["svix"])


def _draft(body: shapes.ApplicationIn) -> WorkspaceDraft:
    return WorkspaceDraft(body.name, body.uid, body.metadata, body.rate)


@router.get("", operation_id="v1.application.list", summary="List applications")
async def list_applications(
    deps: Svc, who: Who, limit: Limit = 50, iterator: Iterator = None
) -> dict[str, Any]:
    after, backwards = cursor(iterator)
    found = await applications.list_page(deps, who, limit=limit, cursor=after, backwards=backwards)
    return page(found.items, found.more, render.application, lambda w: w.id)


@router.post(
    "",
    operation_id="v1.application.create",
    summary="Create an application (or get the one with this uid)",
    status_code=201,
    responses={200: {"model": shapes.ApplicationOut, "description": "It existed already"}},
)
async def create_application(
    deps: Svc,
    who: Who,
    body: shapes.ApplicationIn,
    response: Response,
    get_if_exists: Annotated[bool, Query()] = False,
) -> shapes.ApplicationOut:
    if get_if_exists:
        found, created = await applications.get_or_create(deps, who, _draft(body))
        response.status_code = 201 if created else 200
        return render.application(found)
    return render.application(await applications.create(deps, who, _draft(body)))


@router.get("/{app_id}", operation_id="v1.application.get", summary="Get an application")
async def get_application(app: App) -> shapes.ApplicationOut:
    return render.application(app)


@router.put(
    "/{app_id}",
    operation_id="v1.application.update",
    summary="Update an application (or create it with this uid)",
    responses={201: {"model": shapes.ApplicationOut, "description": "Created"}},
)
async def update_application(
    deps: Svc,
    who: Who,
    app_id: Annotated[str, Path(description="The application's id or uid")],
    body: shapes.ApplicationIn,
    response: Response,
) -> shapes.ApplicationOut:
    try:
        app = await applications.resolve(deps, who, app_id)
    except NotFound:
        if body.uid not in (None, app_id):
            raise
        response.status_code = 201
        created = await applications.create(
            deps, who, _draft(body.model_copy(update={"uid": app_id}))
        )
        return render.application(created)
    changes = {"name": body.name, "uid": body.uid, "metadata": body.metadata,
               "throttle_rate": body.rate}  # fmt: skip
    return render.application(await applications.update(deps, app, changes))


@router.patch("/{app_id}", operation_id="patch_application", summary="Patch an application")
async def patch_application(
    deps: Svc, app: App, body: shapes.ApplicationPatch
) -> shapes.ApplicationOut:
    changes = body.model_dump(exclude_unset=True, exclude={"rate_limit", "throttle_rate"})
    if body.rate_given:
        changes["throttle_rate"] = body.rate
    return render.application(await applications.update(deps, app, changes))


@router.delete(
    "/{app_id}",
    operation_id="v1.application.delete",
    summary="Delete an application: the workspace and everything in it",
    status_code=204,
)
async def delete_application(deps: Svc, who: Who, app: App) -> Response:
    await workspace_removal.delete_workspace(deps, who, app.id, force=True)
    return Response(status_code=204)
