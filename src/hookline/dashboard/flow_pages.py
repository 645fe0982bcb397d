"""Flows: each with its trigger and webhooks; export as a file and import from one
(``hookline.services.flows``, ``hookline.services.flow_import``)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from hookline.dashboard.forms import read_form
from hookline.dashboard.web import PageRoute, Visitor, visitor
from hookline.dashboard.webhook_form import FORM_ERROR, api_error, validation_errors
from hookline.errors import ApiError
from hookline.services import flows
from hookline.services.flow_import import NamesTaken, import_flow
from hookline.wire.flow_schemas import FlowDocument, ImportOut

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Who = Annotated[Visitor, Depends(visitor)]


async def _page(who: Visitor, status: int = 200, **result: Any) -> Response:
    deps = who.state.deps
    listed = await flows.list_flows(deps, who.ws)
    members = {f.id: await flows.flow_members(deps, who.ws, f.id) for f in listed}
    context = {"errors": {}, "imported": None} | result
    return who.page("flows.html", status, flows=listed, members=members, nav="flows", **context)


@router.get("/flows")
async def list_page(who: Who) -> Response:
    return await _page(who)


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
