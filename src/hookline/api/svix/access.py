"""Who calls, and which application a path names (by id or uid): the Svix routes' dependencies.

Tokens are Hookline's: the admin token or an operator key reach every application; a workspace
API key reaches its own application only (403 for any other, whether it exists or not).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from hookline.api.auth import authenticate
from hookline.api.state import get_state
from hookline.api.svix.shapes import ApplicationIn
from hookline.domain.models import Workspace
from hookline.domain.workspace_fields import WorkspaceDraft
from hookline.errors import NotFound, ValidationFailed
from hookline.services import applications
from hookline.services.deps import Deps
from hookline.services.workspaces import Principal


async def _principal(request: Request) -> Principal:
    return await authenticate(request)


async def _deps(request: Request) -> Deps:
    return get_state(request).deps


async def _application(
    request: Request,
    app_id: Annotated[str, Path(description="The application's id or uid")],
) -> Workspace:
    who = await authenticate(request)
    return await applications.resolve(get_state(request).deps, who, app_id)


Who = Annotated[Principal, Depends(_principal)]
Svc = Annotated[Deps, Depends(_deps)]
App = Annotated[Workspace, Depends(_application)]


async def resolve_or_create(
    deps: Deps, who: Principal, ref: str, given: ApplicationIn | None
) -> Workspace:
    """The path's application; created from the body's ``application`` when it names the same
    uid and does not exist yet (as Svix does when sending a message or making a portal link)."""
    try:
        return await applications.resolve(deps, who, ref)
    except NotFound:
        if given is None:
            raise
        if given.uid not in (None, ref):
            raise ValidationFailed(
                "application.uid: must be the application uid of the path",
                field="application.uid", code="application_uid_mismatch",
            ) from None  # fmt: skip
        draft = WorkspaceDraft(given.name, ref, given.metadata, given.rate)
        return (await applications.get_or_create(deps, who, draft))[0]
