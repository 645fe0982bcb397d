"""Bearer-token authentication: the admin token, or a workspace API key that sees only its own
workspace (another workspace's resources answer 404, so their existence does not leak)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request

from hookline import keys
from hookline.api.state import AppState, state_dependency
from hookline.errors import ApiError, NotFound


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


@dataclass(frozen=True, slots=True)
class Principal:
    admin: bool
    workspace_id: str | None = None


async def principal(
    request: Request, state: Annotated[AppState, Depends(state_dependency)]
) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send 'Authorization: Bearer <admin token or workspace API key>'")
    token = token.strip()
    if keys.token_matches(token, state.admin_token_hash):
        return Principal(admin=True)
    key = await state.store.find_api_key(keys.hash_token(token))
    if key is None:
        raise Unauthorized("unknown or revoked token")
    return Principal(admin=False, workspace_id=key.workspace_id)


Auth = Annotated[Principal, Depends(principal)]


async def admin_only(who: Auth) -> Principal:
    if not who.admin:
        raise Forbidden("this operation needs the admin token")
    return who


async def workspace_id(
    who: Auth,
    state: Annotated[AppState, Depends(state_dependency)],
    ws: Annotated[str, Path(description="Workspace id")],
) -> str:
    """The workspace of the path, if this principal may act in it."""
    if who.admin:
        if await state.store.get_workspace(ws) is None:
            raise NotFound(f"workspace {ws} not found")
        return ws
    if who.workspace_id != ws:
        raise NotFound(f"workspace {ws} not found")
    return ws


WorkspaceId = Annotated[str, Depends(workspace_id)]
