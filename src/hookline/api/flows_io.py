"""Flow export and import: a flow, its trigger and its webhooks as one portable JSON document
(``hookline.services.flows`` and ``hookline.services.flow_import``). A name that exists answers
409 with every conflict in ``conflicts``, and nothing is imported."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from hookline.api.auth import WorkspaceId
from hookline.api.state import State
from hookline.services import flows
from hookline.services.flow_import import NamesTaken
from hookline.services.flow_import import import_flow as run_import
from hookline.wire.flow_schemas import FlowDocument, HeaderLeftOut, ImportOut

__all__ = ["FlowDocument", "HeaderLeftOut", "ImportOut", "router"]

router = APIRouter(prefix="/v1/workspaces/{ws}/flows", tags=["catalog"])


@router.get("/{flow_id}/export")
async def export_flow(
    ws: WorkspaceId, flow_id: str, state: State, include_secrets: bool = False
) -> dict[str, Any]:
    """The flow as a portable document; webhook secrets only with ``include_secrets``."""
    return await flows.export_flow(state.deps, ws, flow_id, include_secrets=include_secrets)


@router.post("/import", status_code=status.HTTP_201_CREATED, response_model=ImportOut)
async def import_flow(ws: WorkspaceId, body: FlowDocument, state: State) -> Any:
    """Recreate an exported flow and its webhooks here; 409 with ``conflicts`` if a name is
    taken. Event types the document names and this catalog lacks are created."""
    try:
        result = await run_import(state.deps, ws, body.to_import())
    except NamesTaken as exc:
        error = {"code": exc.code, "message": exc.message, "field": None}
        body_ = {"error": error | {"conflicts": exc.conflicts}}
        return JSONResponse(body_, status_code=status.HTTP_409_CONFLICT)
    return ImportOut.of(result)
