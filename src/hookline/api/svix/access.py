"""Who calls, and which application a path names (by id or uid): the Svix routes' dependencies.

Tokens are Hookline's: the admin token or an operator key reach every application; a workspace
API key reaches its own application only (403 for any other, whether it exists or not).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from hookline.api.auth import authenticate
from hookline.api.state import get_state
from hookline.domain.models import Workspace
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
