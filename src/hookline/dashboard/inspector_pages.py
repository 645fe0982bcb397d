"""The inspector: capture bins, their requests arriving live (htmx polling), verifying a
captured signature and replaying a request, through the API's handlers (``api/bins.py``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from hookline import verify as receiver
from hookline.api import bins as api
from hookline.dashboard.forms import read_form
from hookline.dashboard.web import PageRoute, Visitor, redirect, visitor
from hookline.dashboard.webhook_form import api_error, validation_errors
from hookline.errors import ApiError
from hookline.wire.bin_schemas import BinIn, CapturedReplayIn, VerifyIn

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Who = Annotated[Visitor, Depends(visitor)]
_SHOWN = 50


async def _list(who: Visitor, errors: dict[str, str], status: int = 200) -> Response:
    found = await api.list_bins(who.ws, who.state, who.request, limit=100, cursor=None)
    return who.page("bins.html", status, bins=found.data, errors=errors, nav="inspector")


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
        created = await api.create_bin(who.ws, BinIn(**fields), who.state, who.request)
    except ValidationError as exc:
        return await _list(who, validation_errors(exc), 422)
    except ApiError as exc:
        return await _list(who, api_error(exc), exc.status)
    return redirect(who.request, f"/inspector/{created.id}")


@router.get("/inspector/{bin_id}")
async def bin_page(who: Who, bin_id: str) -> Response:
    found = await api.get_bin(who.ws, bin_id, who.state, who.request)
    page = await api.list_requests(
        who.ws, bin_id, who.state, who.request, limit=_SHOWN, cursor=None, after=None
    )
    newest = page.data[0].id if page.data else ""
    return who.page(
        "bin.html",
        bin=found,
        requests=page.data,
        newest=newest,
        schemes=receiver.SCHEMES,
        nav="inspector",
    )


@router.get("/inspector/{bin_id}/poll")
async def poll(who: Who, bin_id: str, after: str = "") -> Response:
    """Requests newer than ``after`` (inserted at the top), and the poller for the next."""
    page = await api.list_requests(
        who.ws, bin_id, who.state, who.request, limit=_SHOWN, cursor=None, after=after
    )
    arrived = list(reversed(page.data))
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
        out = await api.verify_request(who.ws, bin_id, rid, body, who.state, who.request)
    except ValidationError as exc:
        return who.page("_verify_result.html", errors=validation_errors(exc), out=None)
    except ApiError as exc:
        return who.page("_verify_result.html", errors=api_error(exc), out=None)
    return who.page("_verify_result.html", errors={}, out=out)


@router.post("/inspector/{bin_id}/requests/{rid}/replay")
async def replay(who: Who, bin_id: str, rid: str) -> Response:
    form = await read_form(who.request)
    try:
        body = CapturedReplayIn(url=form.get("url").strip())
        out = await api.replay_request(who.ws, bin_id, rid, body, who.state)
    except ValidationError as exc:
        return who.page("_bin_replay_result.html", errors=validation_errors(exc), out=None)
    except ApiError as exc:
        return who.page("_bin_replay_result.html", errors=api_error(exc), out=None)
    return who.page("_bin_replay_result.html", errors={}, out=out)


@router.post("/inspector/{bin_id}/delete")
async def delete(who: Who, bin_id: str) -> Response:
    await api.delete_bin(who.ws, bin_id, who.state)
    return redirect(who.request, "/inspector")
