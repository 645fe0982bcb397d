"""The inspector's management API: capture bins, the requests they caught, on-demand
verification and replay. Everything under ``/v1/workspaces/{ws}/bins`` needs the workspace's
credentials like the rest of the API; the capture URL itself is public (``api/capture.py``)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from hookline import verify as receiver
from hookline.api.auth import WorkspaceId
from hookline.api.state import AppState, State
from hookline.cli.listen import forward_headers
from hookline.delivery.sender import OutgoingRequest
from hookline.domain.address_policy import AddressPolicy, BlockedAddress, check_url_host
from hookline.domain.ids import new_id
from hookline.errors import NotFound, ValidationFailed
from hookline.store.bins import Bin, BinConfig, CapturedRequest, ReplayResult
from hookline.wire.bin_schemas import (
    BinIn,
    BinOut,
    CapturedReplayIn,
    CapturedReplayOut,
    RequestOut,
    TooManyBins,
    VerifyIn,
    VerifyOut,
    captured_url,
)
from hookline.wire.schemas import ListOut

router = APIRouter(prefix="/v1/workspaces/{ws}/bins", tags=["inspector"])
_REPLAY_TIMEOUT = 30.0


def _base_url(request: Request, state: AppState) -> str:
    """Where capture URLs live: their own origin when the operator gave them one."""
    settings = state.settings
    return (settings.capture_base_url or settings.public_url or str(request.base_url)).rstrip("/")


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


@router.post("", status_code=status.HTTP_201_CREATED, response_model=BinOut)
async def create_bin(ws: WorkspaceId, body: BinIn, state: State, request: Request) -> BinOut:
    """A capture URL that records every request it receives and answers as configured."""
    now = time.time()
    await state.store.purge_expired_bins(now)
    config = BinConfig(**body.model_dump(exclude={"name", "ttl_seconds"}))
    created = Bin(new_id("bin"), ws, body.name, config, 0, now + body.ttl_seconds, now)
    most = state.settings.max_bins_per_workspace
    if not await state.store.create_bin(created, max_bins=most):
        raise TooManyBins(f"a workspace has at most {most} bins: delete one to make room")
    return BinOut.of(created, _base_url(request, state))


@router.get("", response_model=ListOut)
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


@router.get("/{bin_id}", response_model=BinOut)
async def get_bin(ws: WorkspaceId, bin_id: str, state: State, request: Request) -> BinOut:
    return BinOut.of(await _load_bin(state, ws, bin_id), _base_url(request, state))


@router.delete("/{bin_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_bin(ws: WorkspaceId, bin_id: str, state: State) -> None:
    if not await state.store.delete_bin(ws, bin_id):
        raise NotFound(f"bin {bin_id} not found")


@router.get("/{bin_id}/requests", response_model=ListOut)
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


@router.get("/{bin_id}/requests/{rid}", response_model=RequestOut)
async def get_request(
    ws: WorkspaceId, bin_id: str, rid: str, state: State, request: Request
) -> RequestOut:
    found = await _load_request(state, ws, bin_id, rid)
    return RequestOut.of(found, _base_url(request, state))


@router.post("/{bin_id}/requests/{rid}/verify", response_model=VerifyOut)
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
            url=captured_url(found, _base_url(request, state)),
            tolerance=body.tolerance,
            now=r.received_at,
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    except receiver.VerificationError as exc:
        return VerifyOut(valid=False, error=str(exc), code=exc.code)
    return VerifyOut(valid=True)


@router.post("/{bin_id}/requests/{rid}/replay", response_model=CapturedReplayOut)
async def replay_request(
    ws: WorkspaceId, bin_id: str, rid: str, body: CapturedReplayIn, state: State
) -> CapturedReplayOut:
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
    return CapturedReplayOut.of(result)
