"""``GET /metrics`` on the API's port, in the Prometheus text format: served only when
``HOOKLINE_METRICS_PORT`` is unset, and only to the metrics token's bearer or, without one, the
admin token's (see ``hookline.runtime.metrics_access``). It carries webhook ids and counts, never
payloads or secrets."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from hookline.api.state import State
from hookline.runtime.metrics_access import metrics_access

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response)
async def metrics(request: Request, state: State) -> Response:
    """Prometheus metrics. Send `Authorization: Bearer <token>`: the metrics token
    (`HOOKLINE_METRICS_TOKEN`) when one is set, else the admin token."""
    access = metrics_access(state.settings, state.admin_token_hash)
    if not access.allows(request.headers.get("authorization")):
        raise access.refusal()
    return Response(await state.metrics.render(state.store), media_type=CONTENT_TYPE_LATEST)
