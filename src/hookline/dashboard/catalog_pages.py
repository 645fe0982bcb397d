"""The event-type catalog: the workspace's types and the shared ones (marked, and read-only
here), each with its schema and example payload; adding one of the workspace's own."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from hookline.dashboard.forms import read_form
from hookline.dashboard.web import PageRoute, Visitor, redirect, visitor
from hookline.dashboard.webhook_form import api_error, validation_errors
from hookline.errors import ApiError
from hookline.services import catalog
from hookline.wire.event_types import EventTypeIn

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Who = Annotated[Visitor, Depends(visitor)]


async def _page(
    who: Visitor, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    listed = await catalog.list_event_types(who.state.deps, who.ws)
    return who.page(
        "event_types.html", status, catalog=listed, values=values, errors=errors, nav="catalog"
    )


@router.get("/event-types")
async def list_page(who: Who) -> Response:
    return await _page(who, {}, {})


@router.post("/event-types")
async def create(who: Who) -> Response:
    form = await read_form(who.request)
    names = ("name", "description", "schema", "example", "enforce")
    values = {name: form.get(name) for name in names}
    body: dict[str, Any] = {"name": values["name"].strip(), "description": values["description"]}
    body["enforce"] = bool(values["enforce"])
    errors: dict[str, str] = {}
    for name in ("schema", "example"):
        if values[name].strip():
            try:
                body[name] = orjson.loads(values[name])
            except orjson.JSONDecodeError as exc:
                errors[name] = f"not valid JSON: {exc}"
    try:
        model = EventTypeIn.model_validate(body)
    except ValidationError as exc:
        return await _page(who, values, validation_errors(exc) | errors, 422)
    if errors:
        return await _page(who, values, errors, 422)
    try:
        await catalog.create_event_type(who.state.deps, who.ws, model.to_draft())
    except ApiError as exc:
        return await _page(who, values, api_error(exc), exc.status)
    return redirect(who.request, f"/event-types#et-{model.name}")
