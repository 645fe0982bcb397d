"""Flows: each with its trigger and webhooks; create, edit and delete one, export it as a file
and import from one (``hookline.services.flows``, ``hookline.services.flow_import``).

The form's rules and messages are the API's (``hookline.dashboard.flow_form``); deleting asks
first, on a page that says what becomes of the flow's webhooks.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from hookline.dashboard import flow_form
from hookline.dashboard.forms import read_form
from hookline.dashboard.web import PageRoute, Visitor, redirect, visitor
from hookline.dashboard.webhook_form import FORM_ERROR, api_error, validation_errors
from hookline.domain.models import Flow
from hookline.errors import ApiError
from hookline.services import flows
from hookline.services.flow_import import NamesTaken, import_flow
from hookline.wire.flow_schemas import FlowDocument, ImportOut

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Who = Annotated[Visitor, Depends(visitor)]
_NOTICES = {
    "created": "Flow created.",
    "saved": "Flow saved.",
    "deleted": "Flow deleted; its webhooks were kept, outside any flow.",
}


async def _page(who: Visitor, status: int = 200, **result: Any) -> Response:
    deps = who.state.deps
    listed = await flows.list_flows(deps, who.ws)
    members = {f.id: await flows.flow_members(deps, who.ws, f.id) for f in listed}
    context = {"errors": {}, "imported": None, "notice": None} | result
    return who.page("flows.html", status, flows=listed, members=members, nav="flows", **context)


@router.get("/flows")
async def list_page(who: Who, done: str = "") -> Response:
    return await _page(who, notice=_NOTICES.get(done))


@router.get("/flows/{flow_id}/export")
async def export(who: Who, flow_id: str) -> Response:
    document = await flows.export_flow(who.state.deps, who.ws, flow_id)
    name = document["flow"]["name"]
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name) or "flow"
    return Response(
        orjson.dumps(document, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{safe}.flow.json"'},
    )


@router.post("/flows/import")
async def import_(who: Who) -> Response:
    form = await read_form(who.request)
    raw = form.files.get("document") or form.get("document_text").encode()
    try:
        data = orjson.loads(raw)
        if form.get("name").strip() and isinstance(data, dict):
            data["name"] = form.get("name").strip()
        document = FlowDocument.model_validate(data)
        result = await import_flow(who.state.deps, who.ws, document.to_import())
    except orjson.JSONDecodeError as exc:
        return await _page(who, 422, errors={"document": f"not a JSON document: {exc}"})
    except ValidationError as exc:
        return await _page(who, 422, errors=validation_errors(exc))
    except NamesTaken as exc:  # nothing imported
        return await _page(who, exc.status, errors={FORM_ERROR: exc.message})
    except ApiError as exc:
        return await _page(who, exc.status, errors=api_error(exc, full_paths=True))
    return await _page(who, 201, imported=ImportOut.of(result))


async def _form(
    who: Visitor,
    flow: Flow | None,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    members = [] if flow is None else await flows.flow_members(who.state.deps, who.ws, flow.id)
    context = {"values": values, "errors": errors, "members": members, "nav": "flows"}
    return who.page("flow_form.html", status, flow=flow, **context)


@router.get("/flows/new")
async def new_page(who: Who) -> Response:
    return await _form(who, None, flow_form.blank_values(), {})


@router.post("/flows")
async def create(who: Who) -> Response:
    values = flow_form.values_from_form(await read_form(who.request))
    submitted, errors = flow_form.read(values)
    if submitted is None:
        return await _form(who, None, values, errors, 422)
    config = flow_form.config_of(submitted)
    try:
        made = await flows.create_flow(
            who.state.deps, who.ws, submitted.name, submitted.description, config
        )
    except ApiError as exc:  # a name taken
        return await _form(who, None, values, api_error(exc), exc.status)
    return redirect(who.request, f"/flows?done=created#flow-{made.id}")


@router.get("/flows/{flow_id}/edit")
async def edit_page(who: Who, flow_id: str) -> Response:
    flow = await flows.get_flow(who.state.deps, who.ws, flow_id)
    return await _form(who, flow, flow_form.values_from_flow(flow), {})


# Declared after ``/flows/import``, a path this one would also match.
@router.post("/flows/{flow_id}")
async def update(who: Who, flow_id: str) -> Response:
    flow = await flows.get_flow(who.state.deps, who.ws, flow_id)
    values = flow_form.values_from_form(await read_form(who.request))
    submitted, errors = flow_form.read(values)
    if submitted is None:
        return await _form(who, flow, values, errors, 422)
    try:
        await flows.update_flow(who.state.deps, who.ws, flow_id, submitted.model_dump())
    except ApiError as exc:
        return await _form(who, flow, values, api_error(exc), exc.status)
    return redirect(who.request, f"/flows?done=saved#flow-{flow_id}")


@router.get("/flows/{flow_id}/delete")
async def delete_page(who: Who, flow_id: str) -> Response:
    """The confirmation: what deleting does to the flow's webhooks, and the button."""
    flow = await flows.get_flow(who.state.deps, who.ws, flow_id)
    members = await flows.flow_members(who.state.deps, who.ws, flow_id)
    return who.page("flow_delete.html", flow=flow, members=members, nav="flows")


@router.post("/flows/{flow_id}/delete")
async def delete(who: Who, flow_id: str) -> Response:
    await flows.delete_flow(who.state.deps, who.ws, flow_id)
    return redirect(who.request, "/flows?done=deleted")
