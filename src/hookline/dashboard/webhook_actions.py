"""The webhook page's buttons, answered in place for htmx: Test, the live request preview,
secret generation, reveal and rotation, credential header reveal, bulk replay, delete, and new
key-value rows. Each calls the service the REST API calls (``hookline.services``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from hookline.dashboard.forms import read_form
from hookline.dashboard.web import PageRoute, Visitor, redirect, visitor
from hookline.dashboard.webhook_form import (
    api_body,
    api_error,
    validation_errors,
    values_from_form,
)
from hookline.domain import secret_headers, signing
from hookline.domain.models import WebhookConfig
from hookline.errors import ApiError
from hookline.services import deliveries, webhook_tests, webhooks
from hookline.wire.schemas import AttemptOut, ReplayIn

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Who = Annotated[Visitor, Depends(visitor)]


def _fragment(who: Visitor, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return who.page(template, status, **context)


@router.post("/webhooks/{webhook_id}/test")
async def test(who: Who, webhook_id: str) -> Response:
    """One real delivery of the webhook's sample event, as the REST API's Test sends it."""
    try:
        result = await webhook_tests.send_test(who.state.deps, who.ws, webhook_id)
    except ApiError as exc:
        return _fragment(who, "_test_result.html", error=exc.message, result=None)
    attempt = AttemptOut.of(result.attempt)
    return _fragment(who, "_test_result.html", error=None, result=result, attempt=attempt)


@router.post("/webhooks/preview")
async def preview(who: Who) -> Response:
    """The request the form's (unsaved) configuration would send for its sample event: an HTTP
    request, or a broker action's message (``PUBLISH`` to the broker and target)."""
    form = await read_form(who.request)
    body, errors = api_body(values_from_form(form))
    try:
        config = WebhookConfig.model_validate(body)
    except ValidationError as exc:
        return _fragment(who, "_preview.html", errors=validation_errors(exc) | errors, req=None)
    if errors:
        return _fragment(who, "_preview.html", errors=errors, req=None)
    if config.kind == "email":  # a message to people, not a request or a broker message
        return _fragment(who, "_preview.html", errors={}, req=None, email=True)
    try:
        shown = await webhook_tests.preview_draft(
            who.state.deps,
            who.ws,
            config,
            webhook_id=form.get("webhook_id") or None,
            secret=form.get("secret", "").strip(),
        )
    except ApiError as exc:  # a template too large: refused before the body is built
        return _fragment(who, "_preview.html", exc.status, errors=api_error(exc), code=exc.code)
    return _fragment(who, "_preview.html", errors={}, req=shown.request, shown=shown)


@router.get("/secret/generate")
async def generate_secret(who: Who) -> Response:
    """A new secret for the schemes checked on the form (a whsk_ key for ed25519)."""
    schemes = who.request.query_params.getlist("signature_schemes")
    return _fragment(who, "_secret_input.html", value=signing.generate_secret_for(schemes))


@router.post("/webhooks/{webhook_id}/reveal-secret")
async def reveal_secret(who: Who, webhook_id: str) -> Response:
    hook = await webhooks.load(who.state.deps, who.ws, webhook_id)
    secret = hook.secrets[0].secret if hook.secrets else None
    public = signing.public_key(secret) if secret else None
    return _fragment(who, "_secret.html", secret=secret, public_key=public, rotated=False)


@router.post("/webhooks/{webhook_id}/reveal-headers")
async def reveal_headers(who: Who, webhook_id: str) -> Response:
    """The values of the webhook's credential headers, masked everywhere else."""
    config = (await webhooks.load(who.state.deps, who.ws, webhook_id)).config
    names = secret_headers.credential_names(config.headers, config.secret_headers)
    shown = {k: v for k, v in config.headers.items() if k in names}
    return _fragment(who, "_secret_headers.html", headers=shown)


@router.post("/webhooks/{webhook_id}/rotate-secret")
async def rotate_secret(who: Who, webhook_id: str) -> Response:
    secret = await webhooks.rotate_secret(who.state.deps, who.ws, webhook_id)
    grace = who.state.settings.rotation_grace_seconds
    public = signing.public_key(secret)
    return _fragment(
        who, "_secret.html", secret=secret, public_key=public, rotated=True, grace=grace
    )


@router.post("/webhooks/{webhook_id}/replay")
async def replay(who: Who, webhook_id: str) -> Response:
    form = await read_form(who.request)
    try:
        body = ReplayIn(
            since=_utc(form.get("since")),
            until=_utc(form.get("until")) if form.get("until") else None,
            statuses=form.getlist("statuses"),
        )
        queued = await deliveries.replay(
            who.state.deps,
            who.ws,
            webhook_id,
            since=body.since.timestamp(),
            until=body.until.timestamp() if body.until else None,
            statuses=body.statuses,
        )
    except ValidationError as exc:
        return _fragment(who, "_replay_result.html", errors=validation_errors(exc), queued=None)
    except ApiError as exc:
        return _fragment(who, "_replay_result.html", errors=api_error(exc), queued=None)
    return _fragment(who, "_replay_result.html", errors={}, queued=queued)


def _utc(value: str) -> Any:
    """A ``datetime-local`` value read as UTC (the form says so); anything else as typed."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return value


@router.post("/webhooks/{webhook_id}/delete")
async def delete(who: Who, webhook_id: str) -> Response:
    await webhooks.delete(who.state.deps, who.ws, webhook_id)
    return redirect(who.request, "/webhooks")


@router.get("/webhook-row")
async def new_row(who: Who, kind: str = "header") -> Response:
    names = ("meta_name", "meta_value") if kind == "metadata" else ("header_name", "header_value")
    label = "Metadata" if kind == "metadata" else "Header"
    return _fragment(who, "_kv_row.html", names=names, label=label, key="", value="", index=0)
