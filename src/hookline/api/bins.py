"""The inspector's management API: capture bins, the requests they caught, on-demand
verification and replay (``hookline.services.inspector``). Everything under
``/v1/workspaces/{ws}/bins`` needs the workspace's credentials like the rest of the API; the
capture URL itself is public (``api/capture.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from hookline.api.auth import WorkspaceId
from hookline.api.state import AppState, State
from hookline.services import inspector
from hookline.store.bins import BinConfig
from hookline.wire.bin_schemas import (
    BinIn,
    BinOut,
    CapturedReplayIn,
    CapturedReplayOut,
    RequestOut,
    VerifyIn,
    VerifyOut,
)
from hookline.wire.schemas import ListOut

router = APIRouter(prefix="/v1/workspaces/{ws}/bins", tags=["inspector"])
Limit = Annotated[int, Query(ge=1, le=500)]


def _base_url(request: Request, state: AppState) -> str:
    return inspector.capture_base(state.settings, str(request.base_url))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=BinOut)
async def create_bin(ws: WorkspaceId, body: BinIn, state: State, request: Request) -> BinOut:
    """A capture URL that records every request it receives and answers as configured."""
    config = BinConfig(**body.model_dump(exclude={"name", "ttl_seconds"}))
    created = await inspector.create_bin(state.deps, ws, body.name, config, body.ttl_seconds)
    return BinOut.of(created, _base_url(request, state))


@router.get("", response_model=ListOut)
async def list_bins(
    ws: WorkspaceId, state: State, request: Request, limit: Limit = 50, cursor: str | None = None
) -> ListOut:
    page = await inspector.list_bins(state.deps, ws, limit=limit, cursor=cursor)
    base = _base_url(request, state)
    return ListOut(data=[BinOut.of(b, base) for b in page.items], next_cursor=page.next_cursor)


@router.get("/{bin_id}", response_model=BinOut)
async def get_bin(ws: WorkspaceId, bin_id: str, state: State, request: Request) -> BinOut:
    return BinOut.of(await inspector.get_bin(state.deps, ws, bin_id), _base_url(request, state))


@router.delete("/{bin_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_bin(ws: WorkspaceId, bin_id: str, state: State) -> None:
    await inspector.delete_bin(state.deps, ws, bin_id)


@router.get("/{bin_id}/requests", response_model=ListOut)
async def list_requests(
    ws: WorkspaceId,
    bin_id: str,
    state: State,
    request: Request,
    limit: Limit = 50,
    cursor: str | None = None,
    after: Annotated[str | None, Query(description="Only newer requests, oldest first.")] = None,
) -> ListOut:
    """Newest first (page on with ``cursor``), or with ``after`` the ones since, oldest first."""
    page = await inspector.list_requests(
        state.deps, ws, bin_id, limit=limit, cursor=cursor, after=after
    )
    base = _base_url(request, state)
    return ListOut(data=[RequestOut.of(r, base) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{bin_id}/requests/{rid}", response_model=RequestOut)
async def get_request(
    ws: WorkspaceId, bin_id: str, rid: str, state: State, request: Request
) -> RequestOut:
    found = await inspector.get_request(state.deps, ws, bin_id, rid)
    return RequestOut.of(found, _base_url(request, state))


@router.post("/{bin_id}/requests/{rid}/verify", response_model=VerifyOut)
async def verify_request(
    ws: WorkspaceId, bin_id: str, rid: str, body: VerifyIn, state: State, request: Request
) -> VerifyOut:
    """Check the captured request's signature against a secret, as a receiver would."""
    verdict = await inspector.verify_request(
        state.deps,
        ws,
        bin_id,
        rid,
        scheme=body.scheme,
        secret=body.secret if body.secret is not None else body.secrets or [],
        tolerance=body.tolerance,
        base=_base_url(request, state),
    )
    return VerifyOut(valid=verdict.valid, error=verdict.error, code=verdict.code)


@router.post("/{bin_id}/requests/{rid}/replay", response_model=CapturedReplayOut)
async def replay_request(
    ws: WorkspaceId, bin_id: str, rid: str, body: CapturedReplayIn, state: State
) -> CapturedReplayOut:
    """Send the captured request again, to any URL: same method, headers and body."""
    result = await inspector.replay_request(state.deps, ws, bin_id, rid, body.url)
    return CapturedReplayOut.of(result)
