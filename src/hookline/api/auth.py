"""Bearer-token authentication, the REST API's side of it: reading the token, caching keys,
counting failures. A bearer is the admin token, an operator key (``hlo_…``, the admin's rights)
or a workspace API key (``hlk_…``). Who may act in which workspace is
``hookline.services.workspaces``'s rule (a key used on another workspace's path answers 403
``wrong_workspace``; another workspace's resources through the key's own path answer 404, so
their existence does not leak).

Unknown tokens are counted per client address (``HOOKLINE_AUTH_FAILURES_PER_MINUTE`` in any
sliding minute, per process): past that, the address is answered 429 without its token being
looked at until the oldest failure is a minute old. Valid tokens are never counted; checking
an address costs one dictionary lookup.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, TypeVar

from fastapi import Depends, Path, Request

from hookline.api.state import AppState, get_state
from hookline.domain import keys
from hookline.domain.keys import KeyCache
from hookline.domain.models import ApiKey, OperatorKey
from hookline.errors import ApiError, Forbidden, Unauthorized
from hookline.services import operators, workspaces
from hookline.services.workspaces import Principal

__all__ = ["Auth", "Forbidden", "Principal", "Unauthorized", "WorkspaceId", "authenticate"]


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


_PRINCIPAL = "hookline.principal"
K = TypeVar("K", ApiKey, OperatorKey)


async def authenticate(request: Request) -> Principal:
    """The request's principal, worked out once per request however many dependencies ask.

    A workspace API key or an operator key is looked up in the process's ``KeyCache`` of its
    kind before the database (see there for how soon a revocation takes effect).
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
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "send 'Authorization: Bearer <admin token, operator key or workspace API key>'"
        )
    token_hash = keys.hash_token(token)
    if workspaces.is_operator_token(token):
        find = partial(operators.find_operator_key, state.deps)
        found = await _identify(state, token_hash, state.operator_keys, find)
    else:
        found = await _identify(state, token_hash, state.api_keys, state.store.config.find_api_key)
    if found is None:
        state.auth_failures.record(address, time.monotonic())
        raise Unauthorized("unknown or revoked token")
    return found


async def _identify(
    state: AppState,
    token_hash: str,
    cache: KeyCache[K],
    find: Callable[[str], Awaitable[K | None]],
) -> Principal | None:
    """The admin, or the live key of ``cache``'s kind with this hash: from the cache, else read
    with ``find`` (and remembered); None for an unknown or revoked token. Requests that miss
    the cache together share one read (``state.key_reads``)."""
    found = workspaces.identify(state.admin_token_hash, token_hash, cache.get(token_hash))
    if found is not None:
        return found
    key = await state.key_reads(token_hash, partial(_read_key, state, token_hash, cache, find))
    if key is None:
        # Shared reads may have begun before this request did: a token unknown to one is
        # read again, so that a key created meanwhile is not refused (unknown tokens are
        # rare and counted).
        key = await _read_key(state, token_hash, cache, find)
    return workspaces.identify(state.admin_token_hash, token_hash, key)


async def _read_key(
    state: AppState,
    token_hash: str,
    cache: KeyCache[K],
    find: Callable[[str], Awaitable[K | None]],
) -> K | None:
    """The key with this hash from the database, remembered in ``cache`` if it is live."""
    generation = cache.generation()
    key = await find(token_hash)
    if key is not None and workspaces.identify(state.admin_token_hash, token_hash, key):
        cache.put(key, generation)
    return key


async def principal(request: Request) -> Principal:
    """The bearer token's principal (401 without a valid one)."""
    return await authenticate(request)


Auth = Annotated[Principal, Depends(principal)]


async def admin_only(who: Auth) -> Principal:
    workspaces.require_admin(who)
    return who


async def workspace_id(
    request: Request, ws: Annotated[str, Path(description="Workspace id")]
) -> str:
    """The workspace of the path, if this principal may act in it. (One dependency, not one
    per step: each dependency FastAPI resolves costs every request of every route.)"""
    who = await authenticate(request)
    return await workspaces.workspace_in_reach(get_state(request).deps, who, ws)


WorkspaceId = Annotated[str, Depends(workspace_id)]
