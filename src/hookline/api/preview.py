"""Preview over REST: the exact request a webhook would send for an event, built but never sent.

``hookline.services.webhook_tests.preview`` builds it as the worker does (body template,
headers, signatures; for a webhook in an aggregation window, a window holding just this event)
and says whether the event would reach the webhook at all (``hookline.domain.explain``). A body
template that would render more than ``HOOKLINE_MAX_BODY_BYTES`` is refused, as the worker
refuses it, with a 422 ``template_too_large``, before the body is built.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hookline.api.auth import WorkspaceId
from hookline.api.state import State
from hookline.domain.models import EVENT_TYPE_NAME
from hookline.domain.nul import NoNulModel
from hookline.services import webhook_tests

router = APIRouter(prefix="/v1/workspaces/{ws}/webhooks", tags=["webhooks"])


class PreviewIn(NoNulModel):
    free_json: ClassVar[frozenset[str]] = frozenset({"payload"})
    model_config = ConfigDict(extra="forbid")

    type: str | None = Field(default=None, max_length=200, pattern=EVENT_TYPE_NAME.pattern)
    payload: Any = Field(default=None, description="Default: the event type's catalog example.")


class PreviewOut(BaseModel):
    type: str
    method: str
    url: str
    headers: dict[str, str]
    body: str | None
    aggregated: bool = Field(description="Sent as an aggregation window (here of one event).")
    would_send: bool
    not_sent_because: str | None


@router.post("/{webhook_id}/preview", response_model=PreviewOut)
async def preview(ws: WorkspaceId, webhook_id: str, body: PreviewIn, state: State) -> PreviewOut:
    """The request Hookline would send for this event (signatures included, credential
    header values masked), without sending."""
    shown = await webhook_tests.preview(
        state.deps, ws, webhook_id, type=body.type, payload=body.payload
    )
    return PreviewOut(
        type=shown.type,
        method=shown.request.method,
        url=shown.request.url,
        headers=shown.headers,
        body=shown.body,
        aggregated=shown.aggregated,
        would_send=shown.would_send,
        not_sent_because=shown.not_sent_because,
    )
