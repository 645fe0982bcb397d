"""The inspector: capture bins, the requests they caught, on-demand verification and replay.

``/in/{bin_id}`` is public (a webhook's URL can point at it) and takes any method; everything
under ``/v1/workspaces/{ws}/bins`` needs the workspace's credentials like the rest of the API.
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, field_validator, model_validator
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from hookline import verify as receiver
from hookline.api.auth import WorkspaceId
from hookline.api.schemas import ListOut
from hookline.api.state import AppState, State, get_state
from hookline.delivery.sender import OutgoingRequest
from hookline.errors import ApiError, NotFound, ValidationFailed
from hookline.ids import new_id
from hookline.listen import forward_headers
from hookline.models import check_header, check_url
from hookline.ssrf import AddressPolicy, BlockedAddress, check_url_host
from hookline.store.bins import (
    Bin,
    BinConfig,
    CapturedRequest,
    CaptureOutcome,
    IncomingRequest,
    ReplayResult,
)
from hookline.timefmt import iso

_manage = APIRouter(prefix="/v1/workspaces/{ws}/bins", tags=["inspector"])
router = APIRouter()
_REPLAY_TIMEOUT = 30.0
_BODYLESS_STATUSES = frozenset({204, 304})
_MAX_METHOD = 16  # bin_requests.method


class BinFull(ApiError):
    status = 429
    code = "bin_full"


class MethodTooLong(ApiError):
    status = 405
    code = "method_not_allowed"


class BinIn(BaseModel):
    model_config = {"extra": "forbid"}

    name: str = Field(default="inspector", min_length=1, max_length=200)
    response_status: int = Field(default=200, ge=100, le=599)
    response_delay_seconds: float = Field(default=0.0, ge=0, le=30)
    response_headers: dict[str, str] = Field(default_factory=dict, max_length=50)
    response_body: str = Field(default="", max_length=65_536)
    max_requests: int = Field(default=500, ge=1, le=10_000)
    ttl_seconds: float = Field(default=7 * 24 * 3600, gt=0, le=30 * 24 * 3600)

    @field_validator("response_headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, header_value in value.items():
            check_header(name, header_value)
        return value


class VerifyIn(BaseModel):
    model_config = {"extra": "forbid"}

    scheme: str = Field(description=f"One of {', '.join(receiver.SCHEMES)}.")
    secret: str | None = None
    secrets: list[str] | None = Field(default=None, min_length=1, max_length=10)
    tolerance: float | None = Field(
        default=None,
        gt=0,
        description="Max signature age in seconds, judged at the time the request arrived; "
        "omitted: no freshness check.",
    )

    @model_validator(mode="after")
    def _one_secret_field(self) -> VerifyIn:
        if (self.secret is None) == (self.secrets is None):
            raise ValueError("give either secret or secrets")
        return self


class ReplayIn(BaseModel):
    model_config = {"extra": "forbid"}

    url: str = Field(max_length=2048)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return check_url(value)


class BinOut(BaseModel):
    id: str
    name: str
    capture_url: str = Field(description="Send anything here; every method is captured.")
    response_status: int
    response_delay_seconds: float
    response_headers: dict[str, str]
    response_body: str
    max_requests: int
    request_count: int
    expires_at: str | None
    created_at: str | None

    @classmethod
    def of(cls, found: Bin, base: str) -> BinOut:
        return cls(
            id=found.id,
            name=found.name,
            capture_url=f"{base}/in/{found.id}",
            **asdict(found.config),
            request_count=found.request_count,
            expires_at=iso(found.expires_at),
            created_at=iso(found.created_at),
        )


class ReplayOut(BaseModel):
    id: str
    url: str
    at: str | None
    status: int | None
    headers: dict[str, str]
    body_excerpt: str
    duration_ms: float
    error_class: str | None
    error_message: str | None

    @classmethod
    def of(cls, result: ReplayResult) -> ReplayOut:
        return cls(**(asdict(result) | {"at": iso(result.at)}))


class RequestOut(BaseModel):
    id: str
    method: str
    path: str = Field(description="The raw path as received, /in/{bin_id} included.")
    subpath: str = Field(description="The part of the path after /in/{bin_id}.")
    query: str
    url: str = Field(description="The full URL the sender used.")
    headers: list[tuple[str, str]] = Field(description="In order, duplicates kept.")
    body_base64: str = Field(description="The exact bytes of the body.")
    body_text: str | None = Field(description="The body, if it is UTF-8.")
    size: int
    source: str
    received_at: str | None
    replays: list[ReplayOut] = Field(description="The latest replays, oldest first.")

    @classmethod
    def of(cls, captured: CapturedRequest, base: str) -> RequestOut:
        r = captured.request
        try:
            text: str | None = r.body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return cls(
            id=captured.id,
            method=r.method,
            path=r.path,
            subpath=_subpath(captured),
            query=r.query,
            url=_captured_url(captured, base),
            headers=list(r.headers),
            body_base64=base64.b64encode(r.body).decode("ascii"),
            body_text=text,
            size=len(r.body),
            source=r.source,
            received_at=iso(r.received_at),
            replays=[ReplayOut.of(x) for x in captured.replays],
        )


class VerifyOut(BaseModel):
    valid: bool
    error: str | None = None
    code: str | None = None


def _base_url(request: Request, state: AppState) -> str:
    return (state.settings.public_url or str(request.base_url)).rstrip("/")


def _subpath(captured: CapturedRequest) -> str:
    return captured.request.path.removeprefix(f"/in/{captured.bin_id}")


def _captured_url(captured: CapturedRequest, base: str) -> str:
    """The URL the sender used (what a timestamped GET/DELETE signature covers)."""
    query = captured.request.query
    return f"{base}/in/{captured.bin_id}{_subpath(captured)}" + (f"?{query}" if query else "")


async def _load_bin(state: AppState, ws: str, bin_id: str) -> Bin:
    found = await state.store.get_bin(ws, bin_id)
    if found is None or found.expired(time.time()):
        raise NotFound(f"bin {bin_id} not found (or expired)")
    return found


async def _load_request(state: AppState, ws: str, bin_id: str, rid: str) -> CapturedRequest:
    await _load_bin(state, ws, bin_id)
    found = await state.store.get_bin_request(ws, bin_id, rid)
    if found is None:
        raise NotFound(f"request {rid} not found in bin {bin_id}")
    return found


@_manage.post("", status_code=status.HTTP_201_CREATED, response_model=BinOut)
async def create_bin(ws: WorkspaceId, body: BinIn, state: State, request: Request) -> BinOut:
    """A capture URL that records every request it receives and answers as configured."""
    now = time.time()
    await state.store.purge_expired_bins(now)
    config = BinConfig(**body.model_dump(exclude={"name", "ttl_seconds"}))
    created = Bin(new_id("bin"), ws, body.name, config, 0, now + body.ttl_seconds, now)
    await state.store.create_bin(created)
    return BinOut.of(created, _base_url(request, state))


@_manage.get("", response_model=ListOut)
async def list_bins(
    ws: WorkspaceId,
    state: State,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> ListOut:
    await state.store.purge_expired_bins(time.time())
    page = await state.store.list_bins(ws, limit=limit, cursor=cursor)
    base = _base_url(request, state)
    return ListOut(data=[BinOut.of(b, base) for b in page.items], next_cursor=page.next_cursor)


@_manage.get("/{bin_id}", response_model=BinOut)
async def get_bin(ws: WorkspaceId, bin_id: str, state: State, request: Request) -> BinOut:
    return BinOut.of(await _load_bin(state, ws, bin_id), _base_url(request, state))


@_manage.delete("/{bin_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_bin(ws: WorkspaceId, bin_id: str, state: State) -> None:
    if not await state.store.delete_bin(ws, bin_id):
        raise NotFound(f"bin {bin_id} not found")


@_manage.get("/{bin_id}/requests", response_model=ListOut)
async def list_requests(
    ws: WorkspaceId,
    bin_id: str,
    state: State,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
    after: Annotated[str | None, Query(description="Only newer requests, oldest first.")] = None,
) -> ListOut:
    """Newest first (page on with ``cursor``), or with ``after`` the ones since, oldest first."""
    await _load_bin(state, ws, bin_id)
    page = await state.store.list_bin_requests(ws, bin_id, limit=limit, cursor=cursor, after=after)
    base = _base_url(request, state)
    return ListOut(data=[RequestOut.of(r, base) for r in page.items], next_cursor=page.next_cursor)


@_manage.get("/{bin_id}/requests/{rid}", response_model=RequestOut)
async def get_request(
    ws: WorkspaceId, bin_id: str, rid: str, state: State, request: Request
) -> RequestOut:
    found = await _load_request(state, ws, bin_id, rid)
    return RequestOut.of(found, _base_url(request, state))


@_manage.post("/{bin_id}/requests/{rid}/verify", response_model=VerifyOut)
async def verify_request(
    ws: WorkspaceId, bin_id: str, rid: str, body: VerifyIn, state: State, request: Request
) -> VerifyOut:
    """Check the captured request's signature against a secret, as a receiver would."""
    found = await _load_request(state, ws, bin_id, rid)
    r = found.request
    secret = body.secret if body.secret is not None else body.secrets or []
    try:
        receiver.verify(
            body.scheme,
            r.body,
            dict(r.headers),
            secret,
            method=r.method,
            url=_captured_url(found, _base_url(request, state)),
            tolerance=body.tolerance,
            now=r.received_at,
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    except receiver.VerificationError as exc:
        return VerifyOut(valid=False, error=str(exc), code=exc.code)
    return VerifyOut(valid=True)


@_manage.post("/{bin_id}/requests/{rid}/replay", response_model=ReplayOut)
async def replay_request(
    ws: WorkspaceId, bin_id: str, rid: str, body: ReplayIn, state: State
) -> ReplayOut:
    """Send the captured request again, to any URL: same method, headers and body."""
    found = await _load_request(state, ws, bin_id, rid)
    try:
        check_url_host(body.url, AddressPolicy(state.settings.allowed_networks))
    except (BlockedAddress, ValueError) as exc:
        raise ValidationFailed(f"url: {exc}", field="url") from None
    r = found.request
    headers: dict[str, str] = {}
    for name, value in forward_headers(r.headers):
        # The sender takes one value per name: repeated headers travel joined (RFC 9110 §5.3).
        key = next((k for k in headers if k.lower() == name.lower()), name)
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    outgoing = OutgoingRequest(r.method, body.url, headers, r.body or None, _REPLAY_TIMEOUT)
    at = time.time()
    sent = await state.sender.send(outgoing)
    result = ReplayResult(
        new_id("rpl"), body.url, at, sent.status, sent.headers, sent.body_excerpt,
        sent.duration_ms, sent.error_class, sent.error_message,
    )  # fmt: skip
    await state.store.record_replay(ws, bin_id, rid, result)
    return ReplayOut.of(result)


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
    stored = await state.store.capture(bin_id, incoming, now=now)
    if stored.outcome is CaptureOutcome.GONE:
        raise NotFound(f"bin {bin_id} not found (or expired)")
    if stored.outcome is CaptureOutcome.FULL:
        raise BinFull(f"bin {bin_id} holds its maximum of {found.config.max_requests} requests")
    return await _answer(found.config, stored.request_id, request.method)


async def _answer(config: BinConfig, request_id: str | None, method: str) -> Response:
    if config.response_delay_seconds:
        await asyncio.sleep(config.response_delay_seconds)
    code = config.response_status
    if code < 200 or code in _BODYLESS_STATUSES or method == "HEAD":
        return Response(b"", status_code=code, headers=config.response_headers)
    if not config.response_body and not config.response_headers:
        return JSONResponse({"request_id": request_id}, status_code=code)
    return Response(config.response_body.encode(), code, headers=config.response_headers)


class _CaptureApp:
    """``capture`` as an ASGI app: a route to an app takes every method, even unusual ones (a
    route to a function would take GET alone)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await capture(Request(scope, receive))
        await response(scope, receive, send)


for _path in ("/in/{bin_id}", "/in/{bin_id}/{path:path}"):
    router.routes.append(Route(_path, _CaptureApp(), include_in_schema=False))
router.include_router(_manage)
