"""Bearer-token authentication: the admin token, or a workspace API key that sees only its own
workspace (another workspace's resources answer 404, so their existence does not leak)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request

from hookline import keys
from hookline.api.state import AppState, get_state
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


_PRINCIPAL = "hookline.principal"


async def authenticate(request: Request) -> Principal:
    """The request's principal, worked out once per request however many dependencies ask.

    A workspace API key is looked up in the process's ``KeyCache`` before the database (see
    there for how soon a revocation takes effect).
    """
    found: Principal | None = request.scope.get(_PRINCIPAL)
    if found is None:
        found = request.scope[_PRINCIPAL] = await _authenticate(request, get_state(request))
    return found


async def _authenticate(request: Request, state: AppState) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send 'Authorization: Bearer <admin token or workspace API key>'")
    token_hash = keys.hash_token(token.strip())
    if hmac.compare_digest(token_hash, state.admin_token_hash):
        return Principal(admin=True)
    key = state.api_keys.get(token_hash)
    if key is None:
        generation = state.api_keys.generation()
        key = await state.store.find_api_key(token_hash)
        if key is None:
            raise Unauthorized("unknown or revoked token")
        state.api_keys.put(key, generation)
    return Principal(admin=False, workspace_id=key.workspace_id)


async def principal(request: Request) -> Principal:
    """The bearer token's principal (401 without a valid one)."""
    return await authenticate(request)


Auth = Annotated[Principal, Depends(principal)]


async def admin_only(who: Auth) -> Principal:
    if not who.admin:
        raise Forbidden("this operation needs the admin token")
    return who


async def workspace_id(
    request: Request, ws: Annotated[str, Path(description="Workspace id")]
) -> str:
    """The workspace of the path, if this principal may act in it. (One dependency, not one
    per step: each dependency FastAPI resolves costs every request of every route.)"""
    who = await authenticate(request)
    if who.admin:
        if await get_state(request).store.get_workspace(ws) is None:
            raise NotFound(f"workspace {ws} not found")
        return ws
    if who.workspace_id != ws:
        raise NotFound(f"workspace {ws} not found")
    return ws


WorkspaceId = Annotated[str, Depends(workspace_id)]
