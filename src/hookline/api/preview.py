"""Preview: the exact request a webhook would send for an event, built but never sent.

The request comes from the same ``build_request`` the worker uses (body template, headers,
signatures), for a webhook in an aggregation window as a window holding just this event. The
answer also says whether the event would reach the webhook at all (enabled, subscribed,
passing the webhook's and its flow's filters). A body template that would render more than
``HOOKLINE_MAX_BODY_BYTES`` is refused, as the worker refuses it, with a 422
``template_too_large``, before the body is built.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, ClassVar

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hookline.api.auth import WorkspaceId
from hookline.api.state import AppState, State
from hookline.api.webhooks import load_webhook
from hookline.delivery.request import build_request, redact_headers
from hookline.domain.filters import compile_filter
from hookline.domain.models import EVENT_TYPE_NAME, Flow, Webhook, event_matches
from hookline.domain.nul import NoNulModel
from hookline.domain.windows import window_event
from hookline.errors import TemplateTooLarge, ValidationFailed
from hookline.services.publishing import new_delivery, new_event

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
    hook = await load_webhook(state, ws, webhook_id)
    if hook.config.url is None:
        raise ValidationFailed("this action sends email; a preview shows an HTTP request")
    flow = await state.store.get_flow(ws, hook.config.flow) if hook.config.flow else None
    event_type, payload = await _sample(state, ws, hook, body)
    now = time.time()
    event = new_event(ws, event_type, payload, None, now)
    delivery = new_delivery(event, hook.id, now)
    seconds = hook.config.aggregation_seconds or (flow.config.aggregation_seconds if flow else 0)
    sent = event
    if seconds:
        sent = window_event(replace(delivery, next_attempt_at=now + seconds), [event])
    try:
        request = build_request(
            hook,
            sent,
            delivery_id=delivery.id,
            attempt=1,
            now=now,
            max_body_bytes=state.settings.max_body_bytes,
        )
    except TemplateTooLarge as exc:
        raise ValidationFailed(
            f"body_template: {exc}", field="body_template", code=exc.code
        ) from None
    reason = _not_sent(hook, flow, event_type, payload)
    return PreviewOut(
        type=event_type,
        method=request.method,
        url=request.url,
        headers=redact_headers(request.headers, hook.config.secret_headers),
        body=None if request.body is None else request.body.decode("utf-8", "replace"),
        aggregated=bool(seconds),
        would_send=reason is None,
        not_sent_because=reason,
    )


async def _sample(state: AppState, ws: str, hook: Webhook, body: PreviewIn) -> tuple[str, Any]:
    """The event type (given, else the webhook's first named or matching one) and payload
    (given, else the first candidate type's catalog example)."""
    catalog = await state.store.list_event_types(ws)
    patterns = hook.config.events
    candidates = [body.type] if body.type else [p for p in patterns if "*" not in p]
    if not body.type:
        candidates += [et.name for et in catalog if event_matches(patterns, et.name)]
    if not candidates:
        raise ValidationFailed(
            f"type: give an event type; this webhook's events {patterns} match no event type"
            " in the catalog",
            field="type",
        )
    if body.payload is not None:
        return candidates[0], body.payload
    examples = {et.name: et.example for et in catalog if et.example is not None}
    for name in candidates:
        if name in examples:
            return name, examples[name]
    raise ValidationFailed(
        f"payload: no payload given and the catalog has no example for {candidates[0]!r};"
        " send a payload, or add an example to the event type",
        field="payload",
    )


def _not_sent(hook: Webhook, flow: Flow | None, event_type: str, payload: Any) -> str | None:
    config = hook.config
    rules = [("webhook", config.events, config.filter)]
    if flow is not None:
        rules.append(("flow trigger", flow.config.events, flow.config.filter))
    for owner, events, spec in rules:
        if not event_matches(events, event_type):
            return f"the {owner} does not subscribe to {event_type!r}"
        if spec is not None and not compile_filter(spec).matches(payload):
            return f"the payload does not pass the {owner}'s filter"
    if not config.enabled:
        return "the webhook is disabled: its delivery would be held until it is enabled again"
    return None
