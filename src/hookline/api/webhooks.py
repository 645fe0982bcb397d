"""Webhooks: CRUD, the Test button, secret rotation and bulk replay."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import ValidationError

from hookline.api.auth import WorkspaceId
from hookline.api.state import AppState, State
from hookline.delivery.notices import PREFIX as NOTICE_PREFIX
from hookline.domain import secret_headers, signing
from hookline.domain.address_policy import AddressPolicy, BlockedAddress, check_url_host
from hookline.domain.ids import new_id
from hookline.domain.models import SecretEntry, Webhook, WebhookConfig
from hookline.errors import LimitExceeded, NotFound, SigningError, ValidationFailed
from hookline.wire.schemas import (
    ListOut,
    ReplayIn,
    ReplayOut,
    RotateSecretIn,
    SecretOut,
    WebhookCreate,
    WebhookOut,
    WebhookUpdate,
)
from hookline.wire.validation import describe

router = APIRouter(prefix="/v1/workspaces/{ws}/webhooks", tags=["webhooks"])


async def load_webhook(state: AppState, ws: str, webhook_id: str) -> Webhook:
    found = await state.store.get_webhook(ws, webhook_id)
    if found is None:
        raise NotFound(f"webhook {webhook_id} not found")
    return found


async def _check_references(state: AppState, ws: str, config: WebhookConfig, own_id: str) -> None:
    known = {et.name for et in await state.store.list_event_types(ws)}
    for pattern in config.events:
        builtin = pattern.startswith(NOTICE_PREFIX)  # operational events need no catalog entry
        if pattern != "*" and not pattern.endswith(".*") and pattern not in known and not builtin:
            raise ValidationFailed(
                f"events: unknown event type {pattern!r}; create it under /event-types first",
                field="events",
            )
    if config.flow is not None:
        if await state.store.get_flow(ws, config.flow) is None:
            raise ValidationFailed(f"flow: flow {config.flow!r} not found", field="flow")
        count = await state.store.count_flow_webhooks(ws, config.flow)
        current = await state.store.get_webhook(ws, own_id)
        already_in = current is not None and current.config.flow == config.flow
        if not already_in and count >= state.settings.max_webhooks_per_flow:
            raise LimitExceeded(
                f"flow: a flow holds at most {state.settings.max_webhooks_per_flow} webhooks",
                field="flow",
            )
    try:
        if config.url is not None:
            check_url_host(config.url, AddressPolicy(state.settings.allowed_networks))
    except BlockedAddress as exc:
        raise ValidationFailed(f"url: {exc}", field="url") from None
    except ValueError as exc:
        raise ValidationFailed(f"url: {exc}", field="url") from None


def _secret_and_schemes(
    config: WebhookConfig, secret: str | None
) -> tuple[WebhookConfig, tuple[SecretEntry, ...]]:
    if secret == "generate":
        secret = signing.generate_secret()
    if secret is None:
        if config.signature_schemes:
            raise ValidationFailed("signature_schemes need a secret", field="secret")
        return config, ()
    schemes = config.signature_schemes or ["standard"]
    try:
        signing.validate_secret(secret, schemes)
    except SigningError as exc:
        raise ValidationFailed(f"secret: {exc}", field="secret") from None
    return config.model_copy(update={"signature_schemes": schemes}), (SecretEntry(secret),)


def restored_headers(sent: dict[str, str], stored: dict[str, str]) -> dict[str, str]:
    """The headers of a create or an edit, each masked value replaced by the stored one."""
    try:
        return secret_headers.restore(sent, stored)
    except ValueError as exc:
        raise ValidationFailed(f"headers: {exc}", field="headers") from None


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookOut)
async def create_webhook(ws: WorkspaceId, body: WebhookCreate, state: State) -> WebhookOut:
    """A new webhook. Credential header values are masked in the answer (as in every answer
    but ``GET …?include_secret=true``)."""
    data = body.model_dump(exclude={"secret"})
    data["headers"] = restored_headers(body.headers, {})
    config, secrets = _secret_and_schemes(WebhookConfig.model_validate(data), body.secret)
    hook_id = new_id("wh")
    await _check_references(state, ws, config, hook_id)
    now = time.time()
    hook = Webhook(hook_id, ws, config, secrets, now, now)
    await state.store.save_webhook(hook, create=True)
    # A generated signing secret is shown this once; credential headers, which the caller has
    # just sent, are masked as in every answer.
    return WebhookOut.of(hook, include_secret=body.secret == "generate", reveal_headers=False)


@router.get("", response_model=ListOut)
async def list_webhooks(
    ws: WorkspaceId,
    state: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
    enabled: bool | None = None,
    flow: str | None = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
) -> ListOut:
    page = await state.store.list_webhooks(
        ws, limit=limit, cursor=cursor, enabled=enabled, flow_id=flow, search=search
    )
    return ListOut(data=[WebhookOut.of(h) for h in page.items], next_cursor=page.next_cursor)


@router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(
    ws: WorkspaceId, webhook_id: str, state: State, include_secret: bool = False
) -> WebhookOut:
    """The webhook; ``include_secret=true`` adds its signing secret and shows the values of its
    credential headers, which are otherwise masked."""
    return WebhookOut.of(await load_webhook(state, ws, webhook_id), include_secret=include_secret)


@router.patch("/{webhook_id}", response_model=WebhookOut)
async def update_webhook(
    ws: WorkspaceId, webhook_id: str, body: WebhookUpdate, state: State
) -> WebhookOut:
    """Change some fields. A ``headers`` object replaces the headers whole; a header whose
    value is the mask (as answers show credentials) keeps its stored value."""
    current = await load_webhook(state, ws, webhook_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if changes.get("headers") is not None:
        changes["headers"] = restored_headers(changes["headers"], current.config.headers)
    try:
        config = WebhookConfig.model_validate(current.config.model_dump() | changes)
    except ValidationError as exc:
        field, message = describe(exc.errors()[0])
        raise ValidationFailed(f"{field}: {message}" if field else message, field=field) from None
    if config.signature_schemes and not current.secrets:
        raise ValidationFailed("signature_schemes need a secret", field="secret")
    if current.secrets and config.signature_schemes:
        _validate_secret(current.secrets[0].secret, config.signature_schemes)
    await _check_references(state, ws, config, webhook_id)
    reason = None if config.enabled else current.disabled_reason or "disabled by a user"
    updated = replace(current, config=config, updated_at=time.time(), disabled_reason=reason)
    await state.store.save_webhook(updated, create=False)
    return WebhookOut.of(updated)


def _validate_secret(secret: str, schemes: list[str]) -> None:
    try:
        signing.validate_secret(secret, schemes)
    except SigningError as exc:
        raise ValidationFailed(f"signature_schemes: {exc}", field="signature_schemes") from None


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(ws: WorkspaceId, webhook_id: str, state: State) -> None:
    if not await state.store.delete_webhook(ws, webhook_id):
        raise NotFound(f"webhook {webhook_id} not found")


@router.post("/{webhook_id}/rotate-secret", response_model=SecretOut)
async def rotate_secret(
    ws: WorkspaceId, webhook_id: str, body: RotateSecretIn, state: State
) -> SecretOut:
    """A new signing secret; the previous one keeps signing during the grace period."""
    current = await load_webhook(state, ws, webhook_id)
    secret = body.secret or signing.generate_secret()
    _validate_secret(secret, current.config.signature_schemes or ["standard"])
    now = time.time()
    grace = (
        state.settings.rotation_grace_seconds if body.grace_seconds is None else body.grace_seconds
    )
    kept = [SecretEntry(s.secret, now + grace) for s in current.secrets[:1] if grace > 0]
    kept += [s for s in current.secrets[1:] if s.expires_at is not None and s.expires_at > now]
    schemes = current.config.signature_schemes or ["standard"]
    config = current.config.model_copy(update={"signature_schemes": schemes})
    updated = replace(current, config=config, secrets=(SecretEntry(secret), *kept), updated_at=now)
    await state.store.save_webhook(updated, create=False)
    return SecretOut(secret=secret)


@router.post("/{webhook_id}/replay", response_model=ReplayOut)
async def replay(ws: WorkspaceId, webhook_id: str, body: ReplayIn, state: State) -> ReplayOut:
    """Queue again every delivery of this webhook created in a time range, by status."""
    await load_webhook(state, ws, webhook_id)
    now = time.time()
    until = body.until.timestamp() if body.until else now + 1
    queued = await state.store.replay_webhook(
        ws,
        webhook_id,
        since=body.since.timestamp(),
        until=until,
        statuses=body.statuses,
        now=now,
    )
    return ReplayOut(queued=queued)
