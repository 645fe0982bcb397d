"""The inspector's capture URL, ``/in/{bin_id}``: public (a webhook's URL can point at it), it
takes any method and any path below it, stores the request exactly (``hookline.services.capture``)
and answers as the bin is configured. ``api/bins.py`` manages the bins;
``api/capture_isolation.py`` sandboxes every answer under ``/in/``."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from hookline.api.state import get_state
from hookline.domain.capture_headers import refused_header
from hookline.services import capture as capturing
from hookline.store.bins import BinConfig, IncomingRequest

router = APIRouter()
_BODYLESS_STATUSES = frozenset({204, 304})


async def capture(request: Request) -> Response:
    """Any method, any body: store the request exactly, then answer as the bin is configured."""
    deps = get_state(request).deps
    now = time.time()
    found = await capturing.live_bin(deps, request.path_params["bin_id"], request.method, now)
    incoming = IncomingRequest(
        method=request.method,
        path=request.scope.get("raw_path", request.url.path.encode()).decode("latin-1"),
        query=request.scope.get("query_string", b"").decode("latin-1"),
        headers=tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in request.headers.raw),
        body=await request.body(),  # BodySizeLimit answers 413 beyond max_body_bytes
        source=request.client.host if request.client else "",
        received_at=now,
    )
    request_id = await capturing.capture(deps, found, incoming)
    return await _answer(found.config, request_id, request.method)


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
