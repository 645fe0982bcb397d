"""``GET /metrics`` in the Prometheus text format (no credentials: expose it only to your
monitoring network; it carries webhook ids and counts, never payloads or secrets)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from hookline.api.state import State

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response)
async def metrics(state: State) -> Response:
    return Response(await state.metrics.render(state.store), media_type=CONTENT_TYPE_LATEST)
