"""The webhook page's buttons, answered in place for htmx: Test, the live request preview,
secret generation, reveal and rotation, credential header reveal, bulk replay, delete, and new
key-value rows."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from hookline.api import deliveries as deliveries_api
from hookline.api import webhooks as api
from hookline.dashboard.forms import read_form
from hookline.dashboard.web import PageRoute, Visitor, redirect, visitor
from hookline.dashboard.webhook_form import api_body, api_error, validation_errors, values_from_form
from hookline.delivery.request import build_request, redact_headers
from hookline.domain import secret_headers, signing
from hookline.domain.models import SecretEntry, Webhook, WebhookConfig
from hookline.errors import ApiError, SigningError, TemplateTooLarge
from hookline.services.publishing import new_event
from hookline.wire.schemas import ReplayIn, RotateSecretIn, TestIn

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Who = Annotated[Visitor, Depends(visitor)]


def _fragment(who: Visitor, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return who.page(template, status, **context)


@router.post("/webhooks/{webhook_id}/test")
async def test(who: Who, webhook_id: str) -> Response:
    """One real delivery of a sample event, through the API's Test handler."""
    try:
        result = await deliveries_api.test_webhook(who.ws, webhook_id, TestIn(), who.state)
    except ApiError as exc:
        return _fragment(who, "_test_result.html", error=exc.message, result=None)
    return _fragment(who, "_test_result.html", error=None, result=result)


@router.post("/webhooks/preview")
async def preview(who: Who) -> Response:
    """The request the form's (unsaved) configuration would send for a sample event."""
    form = await read_form(who.request)
    values = values_from_form(form)
    body, errors = api_body(values)
    try:
        config = WebhookConfig.model_validate(body)
    except ValidationError as exc:
        return _fragment(who, "_preview.html", errors=validation_errors(exc) | errors, req=None)
    if errors or config.url is None:
        return _fragment(who, "_preview.html", errors=errors, req=None)
    typed = values["secret"].strip()
    secrets = await _preview_secrets(who, form.get("webhook_id"), typed, config.signature_schemes)
    event_type, payload = await _sample(who, config.events)
    now = time.time()
    hook = Webhook("wh_preview", who.ws, config, secrets, now, now)
    event = new_event(who.ws, event_type, payload, None, now)
    limit = who.state.settings.max_body_bytes
    try:
        req = build_request(
            hook, event, delivery_id="dlv_preview", attempt=1, now=now, max_body_bytes=limit
        )
    except TemplateTooLarge as exc:  # refused before the body is built, as the worker does
        errors = {"body_template": str(exc)}
        return _fragment(who, "_preview.html", 422, errors=errors, code=exc.code, req=None)
    body_text = None if req.body is None else req.body.decode("utf-8", "replace")
    shown = redact_headers(req.headers, config.secret_headers)
    return _fragment(
        who, "_preview.html", errors={}, req=req, headers=shown, body=body_text, type=event_type
    )


async def _preview_secrets(
    who: Visitor, webhook_id: str, typed: str, schemes: list[str]
) -> tuple[SecretEntry, ...]:
    """The stored secret when editing; the typed one when creating, if it is usable."""
    if webhook_id:
        found = await who.state.store.get_webhook(who.ws, webhook_id)
        return found.secrets[:1] if found else ()
    if not typed or typed == "generate":
        return ()
    try:
        signing.validate_secret(typed, schemes or ["standard"])
    except SigningError:
        return ()
    return (SecretEntry(typed),)


async def _sample(who: Visitor, patterns: list[str]) -> tuple[str, Any]:
    """The event the Test button would send: the API's choice of type and payload."""
    return await deliveries_api._sample(who.state, who.ws, patterns, TestIn())


@router.get("/secret/generate")
async def generate_secret(who: Who) -> Response:
    return _fragment(who, "_secret_input.html", value=signing.generate_secret())


@router.post("/webhooks/{webhook_id}/reveal-secret")
async def reveal_secret(who: Who, webhook_id: str) -> Response:
    out = await api.get_webhook(who.ws, webhook_id, who.state, include_secret=True)
    return _fragment(who, "_secret.html", secret=out.secret, rotated=False)


@router.post("/webhooks/{webhook_id}/reveal-headers")
async def reveal_headers(who: Who, webhook_id: str) -> Response:
    """The values of the webhook's credential headers, masked everywhere else."""
    out = await api.get_webhook(who.ws, webhook_id, who.state, include_secret=True)
    names = secret_headers.credential_names(out.headers, out.secret_headers)
    shown = {k: v for k, v in out.headers.items() if k in names}
    return _fragment(who, "_secret_headers.html", headers=shown)


@router.post("/webhooks/{webhook_id}/rotate-secret")
async def rotate_secret(who: Who, webhook_id: str) -> Response:
    out = await api.rotate_secret(who.ws, webhook_id, RotateSecretIn(), who.state)
    grace = who.state.settings.rotation_grace_seconds
    return _fragment(who, "_secret.html", secret=out.secret, rotated=True, grace=grace)


@router.post("/webhooks/{webhook_id}/replay")
async def replay(who: Who, webhook_id: str) -> Response:
    form = await read_form(who.request)
    try:
        body = ReplayIn(
            since=_utc(form.get("since")),
            until=_utc(form.get("until")) if form.get("until") else None,
            statuses=form.getlist("statuses"),
        )
        out = await api.replay(who.ws, webhook_id, body, who.state)
    except ValidationError as exc:
        return _fragment(who, "_replay_result.html", errors=validation_errors(exc), queued=None)
    except ApiError as exc:
        return _fragment(who, "_replay_result.html", errors=api_error(exc), queued=None)
    return _fragment(who, "_replay_result.html", errors={}, queued=out.queued)


def _utc(value: str) -> Any:
    """A ``datetime-local`` value read as UTC (the form says so); anything else as typed."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return value


@router.post("/webhooks/{webhook_id}/delete")
async def delete(who: Who, webhook_id: str) -> Response:
    await api.delete_webhook(who.ws, webhook_id, who.state)
    return redirect(who.request, "/webhooks")


@router.get("/webhook-row")
async def new_row(who: Who, kind: str = "header") -> Response:
    names = ("meta_name", "meta_value") if kind == "metadata" else ("header_name", "header_value")
    label = "Metadata" if kind == "metadata" else "Header"
    return _fragment(who, "_kv_row.html", names=names, label=label, key="", value="", index=0)
