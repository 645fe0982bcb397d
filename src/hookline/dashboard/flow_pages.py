"""Flows: each with its trigger and webhooks; export as a file and import from one, through
the API's handlers (``hookline.api.flows_io``)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from hookline.api import flows_io
from hookline.dashboard.forms import read_form
from hookline.dashboard.web import PageRoute, Visitor, visitor
from hookline.dashboard.webhook_form import api_error, validation_errors
from hookline.errors import ApiError

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Who = Annotated[Visitor, Depends(visitor)]


async def _page(who: Visitor, status: int = 200, **result: Any) -> Response:
    store = who.state.store
    flows = await store.list_flows(who.ws)
    limit = max(who.state.settings.max_webhooks_per_flow, 1)
    members = {
        f.id: (await store.list_webhooks(who.ws, limit=limit, flow_id=f.id)).items for f in flows
    }
    context = {"errors": {}, "imported": None} | result
    return who.page("flows.html", status, flows=flows, members=members, nav="flows", **context)


@router.get("/flows")
async def list_page(who: Who) -> Response:
    return await _page(who)


@router.get("/flows/{flow_id}/export")
async def export(who: Who, flow_id: str) -> Response:
    document = await flows_io.export_flow(who.ws, flow_id, who.state, include_secrets=False)
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
        document = flows_io.FlowDocument.model_validate(data)
        result = await flows_io.import_flow(who.ws, document, who.state)
    except orjson.JSONDecodeError as exc:
        return await _page(who, 422, errors={"document": f"not a JSON document: {exc}"})
    except ValidationError as exc:
        return await _page(who, 422, errors=validation_errors(exc))
    except ApiError as exc:
        return await _page(who, exc.status, errors=api_error(exc))
    if isinstance(result, JSONResponse):  # 409: names taken, nothing imported
        error = orjson.loads(bytes(result.body))["error"]
        return await _page(who, result.status_code, errors={"_form": error["message"]})
    return await _page(who, 201, imported=result)
