"""The inspector: capture bins, their requests arriving live (htmx polling), verifying a
captured signature and replaying a request (``hookline.services.inspector``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from hookline import verify as receiver
from hookline.dashboard.forms import read_form
from hookline.dashboard.web import PageRoute, Visitor, redirect, visitor
from hookline.dashboard.webhook_form import api_error, validation_errors
from hookline.errors import ApiError
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

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Who = Annotated[Visitor, Depends(visitor)]
_SHOWN = 50


def _base(who: Visitor) -> str:
    return inspector.capture_base(who.state.settings, str(who.request.base_url))


async def _requests(who: Visitor, bin_id: str, after: str | None) -> list[RequestOut]:
    page = await inspector.list_requests(
        who.state.deps, who.ws, bin_id, limit=_SHOWN, cursor=None, after=after
    )
    base = _base(who)
    return [RequestOut.of(r, base) for r in page.items]


async def _list(who: Visitor, errors: dict[str, str], status: int = 200) -> Response:
    page = await inspector.list_bins(who.state.deps, who.ws, limit=100, cursor=None)
    base = _base(who)
    found = [BinOut.of(b, base) for b in page.items]
    return who.page("bins.html", status, bins=found, errors=errors, nav="inspector")


@router.get("/inspector")
async def list_page(who: Who) -> Response:
    return await _list(who, {})


@router.post("/inspector")
async def create(who: Who) -> Response:
    form = await read_form(who.request)
    fields: dict[str, Any] = {"name": form.get("name").strip() or "inspector"}
    for name in ("response_status", "when_full"):
        if form.get(name).strip():
            fields[name] = form.get(name).strip()
    try:
        body = BinIn(**fields)
        config = BinConfig(**body.model_dump(exclude={"name", "ttl_seconds"}))
        created = await inspector.create_bin(
            who.state.deps, who.ws, body.name, config, body.ttl_seconds
        )
    except ValidationError as exc:
        return await _list(who, validation_errors(exc), 422)
    except ApiError as exc:
        return await _list(who, api_error(exc), exc.status)
    return redirect(who.request, f"/inspector/{created.id}")


@router.get("/inspector/{bin_id}")
async def bin_page(who: Who, bin_id: str) -> Response:
    found = BinOut.of(await inspector.get_bin(who.state.deps, who.ws, bin_id), _base(who))
    requests = await _requests(who, bin_id, None)
    newest = requests[0].id if requests else ""
    return who.page(
        "bin.html",
        bin=found,
        requests=requests,
        newest=newest,
        schemes=receiver.SCHEMES,
        nav="inspector",
    )


@router.get("/inspector/{bin_id}/poll")
async def poll(who: Who, bin_id: str, after: str = "") -> Response:
    """Requests newer than ``after`` (inserted at the top), and the poller for the next."""
    arrived = list(reversed(await _requests(who, bin_id, after)))
    newest = arrived[0].id if arrived else after
    return who.page(
        "_bin_poll.html",
        bin_id=bin_id,
        arrived=arrived,
        newest=newest,
        schemes=receiver.SCHEMES,
    )


@router.post("/inspector/{bin_id}/requests/{rid}/verify")
async def verify(who: Who, bin_id: str, rid: str) -> Response:
    form = await read_form(who.request)
    try:
        body = VerifyIn(scheme=form.get("scheme"), secret=form.get("secret").strip())
        verdict = await inspector.verify_request(
            who.state.deps,
            who.ws,
            bin_id,
            rid,
            scheme=body.scheme,
            secret=body.secret or "",
            tolerance=body.tolerance,
            base=_base(who),
        )
    except ValidationError as exc:
        return who.page("_verify_result.html", errors=validation_errors(exc), out=None)
    except ApiError as exc:
        return who.page("_verify_result.html", errors=api_error(exc), out=None)
    out = VerifyOut(valid=verdict.valid, error=verdict.error, code=verdict.code)
    return who.page("_verify_result.html", errors={}, out=out)


@router.post("/inspector/{bin_id}/requests/{rid}/replay")
async def replay(who: Who, bin_id: str, rid: str) -> Response:
    form = await read_form(who.request)
    try:
        body = CapturedReplayIn(url=form.get("url").strip())
        result = await inspector.replay_request(who.state.deps, who.ws, bin_id, rid, body.url)
    except ValidationError as exc:
        return who.page("_bin_replay_result.html", errors=validation_errors(exc), out=None)
    except ApiError as exc:
        return who.page("_bin_replay_result.html", errors=api_error(exc), out=None)
    out = CapturedReplayOut.of(result)
    return who.page("_bin_replay_result.html", errors={}, out=out)


@router.post("/inspector/{bin_id}/delete")
async def delete(who: Who, bin_id: str) -> Response:
    await inspector.delete_bin(who.state.deps, who.ws, bin_id)
    return redirect(who.request, "/inspector")
