"""Bearer-token authentication: the admin token, or a workspace API key that sees only its own
workspace (another workspace's resources answer 404, so their existence does not leak).

Unknown tokens are counted per client address (``HOOKLINE_AUTH_FAILURES_PER_MINUTE`` in any
sliding minute, per process): past that, the address is answered 429 without its token being
looked at until the oldest failure is a minute old. Valid tokens are never counted; checking
an address costs one dictionary lookup.
"""

from __future__ import annotations

import hmac
import math
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request

from hookline.api.state import AppState, get_state
from hookline.domain import keys
from hookline.errors import ApiError, NotFound


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class TooManyFailures(ApiError):
    status = 429
    code = "too_many_failed_authentications"

    def __init__(self, wait: float) -> None:
        self.retry_after = max(1, math.ceil(wait))
        super().__init__(
            f"too many failed authentications from this address; retry in {self.retry_after} s"
        )

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


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
    address = request.client.host if request.client else "unknown"
    wait = state.auth_failures.wait(address, time.monotonic())
    if wait:
        raise TooManyFailures(wait)
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
            state.auth_failures.record(address, time.monotonic())
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
