"""The inspector's capture URL, ``/in/{bin_id}``: public (a webhook's URL can point at it), it
takes any method and any path below it, stores the request exactly and answers as the bin is
configured. ``api/bins.py`` manages the bins; ``api/capture_isolation.py`` sandboxes every
answer under ``/in/``."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from hookline.api.capture_isolation import refused_header
from hookline.api.state import AppState, get_state
from hookline.domain.bin_quotas import BinQuotas, CaptureOutcome
from hookline.errors import ApiError, NotFound
from hookline.store.bins import Bin, BinConfig, IncomingRequest
from hookline.wire.bin_schemas import (
    BinFull,
    BinQuotaExceeded,
    MethodTooLong,
    WorkspaceQuotaExceeded,
)

router = APIRouter()
_BODYLESS_STATUSES = frozenset({204, 304})
_MAX_METHOD = 16  # bin_requests.method


async def capture(request: Request) -> Response:
    """Any method, any body: store the request exactly, then answer as the bin is configured."""
    state = get_state(request)
    bin_id = request.path_params["bin_id"]
    found = await state.store.find_bin(bin_id)
    now = time.time()
    if found is None or found.expired(now):
        raise NotFound(f"bin {bin_id} not found (or expired)")
    if len(request.method) > _MAX_METHOD:
        raise MethodTooLong(f"methods are limited to {_MAX_METHOD} characters")
    incoming = IncomingRequest(
        method=request.method,
        path=request.scope.get("raw_path", request.url.path.encode()).decode("latin-1"),
        query=request.scope.get("query_string", b"").decode("latin-1"),
        headers=tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in request.headers.raw),
        body=await request.body(),  # BodySizeLimit answers 413 beyond max_body_bytes
        source=request.client.host if request.client else "",
        received_at=now,
    )
    quotas = BinQuotas(state.settings.max_bin_bytes, state.settings.max_workspace_bin_bytes)
    stored = await state.store.capture(bin_id, incoming, now=now, quotas=quotas)
    if stored.outcome is not CaptureOutcome.STORED:
        raise _refusal(stored.outcome, found, state)
    return await _answer(found.config, stored.request_id, request.method)


def _refusal(outcome: CaptureOutcome, found: Bin, state: AppState) -> ApiError:
    settings = state.settings
    if outcome is CaptureOutcome.FULL:
        return BinFull(f"bin {found.id} holds its maximum of {found.config.max_requests} requests")
    if outcome is CaptureOutcome.BIN_QUOTA:
        return BinQuotaExceeded(
            f"bin {found.id} would hold more than {settings.max_bin_bytes} bytes of captures;"
            " delete it, or create it to drop its oldest captures when full"
        )
    if outcome is CaptureOutcome.WORKSPACE_QUOTA:
        return WorkspaceQuotaExceeded(
            f"the workspace's bins would hold more than {settings.max_workspace_bin_bytes} bytes"
            " of captures; delete a bin to make room"
        )
    return NotFound(f"bin {found.id} not found (or expired)")


async def _answer(config: BinConfig, request_id: str | None, method: str) -> Response:
    if config.response_delay_seconds:
        await asyncio.sleep(config.response_delay_seconds)
    code = config.response_status
    # Bins stored before the rule may carry refused headers (CaptureIsolation drops them too).
    headers = {k: v for k, v in config.response_headers.items() if not refused_header(k)}
    if code < 200 or code in _BODYLESS_STATUSES or method == "HEAD":
        return Response(b"", status_code=code, headers=headers)
    if not config.response_body and not config.response_headers:
        return JSONResponse({"request_id": request_id}, status_code=code)
    return Response(config.response_body.encode(), code, headers=headers)


class _CaptureApp:
    """``capture`` as an ASGI app: a route to an app takes every method, even unusual ones (a
    route to a function would take GET alone)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await capture(Request(scope, receive))
        await response(scope, receive, send)


for _path in ("/in/{bin_id}", "/in/{bin_id}/{path:path}"):
    router.routes.append(Route(_path, _CaptureApp(), include_in_schema=False))
