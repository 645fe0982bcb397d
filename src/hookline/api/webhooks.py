"""Webhooks over REST: CRUD, secret rotation and bulk replay (``hookline.services.webhooks``
and ``hookline.services.deliveries`` do the work)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from hookline.api.auth import WorkspaceId
from hookline.api.state import State
from hookline.domain.models import WebhookConfig
from hookline.services import deliveries, webhooks
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

router = APIRouter(prefix="/v1/workspaces/{ws}/webhooks", tags=["webhooks"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookOut)
async def create_webhook(ws: WorkspaceId, body: WebhookCreate, state: State) -> WebhookOut:
    """A new webhook. Credential header values are masked in the answer (as in every answer
    but ``GET …?include_secret=true``)."""
    config = WebhookConfig.model_validate(body.model_dump(exclude={"secret"}))
    hook = await webhooks.create(state.deps, ws, config, body.secret)
    # A generated signing secret is shown this once; credential headers, which the caller has
    # just sent, are masked as in every answer.
    generated = body.secret == webhooks.GENERATE
    return WebhookOut.of(hook, include_secret=generated, reveal_headers=False)


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
    page = await webhooks.list_page(
        state.deps, ws, limit=limit, cursor=cursor, enabled=enabled, flow_id=flow, search=search
    )
    return ListOut(data=[WebhookOut.of(h) for h in page.items], next_cursor=page.next_cursor)


@router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(
    ws: WorkspaceId, webhook_id: str, state: State, include_secret: bool = False
) -> WebhookOut:
    """The webhook; ``include_secret=true`` adds its signing secret and shows the values of its
    credential headers, which are otherwise masked."""
    hook = await webhooks.load(state.deps, ws, webhook_id)
    return WebhookOut.of(hook, include_secret=include_secret)


@router.patch("/{webhook_id}", response_model=WebhookOut)
async def update_webhook(
    ws: WorkspaceId, webhook_id: str, body: WebhookUpdate, state: State
) -> WebhookOut:
    """Change some fields. A ``headers`` object replaces the headers whole; a header whose
    value is the mask (as answers show credentials) keeps its stored value."""
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    return WebhookOut.of(await webhooks.update(state.deps, ws, webhook_id, changes))


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(ws: WorkspaceId, webhook_id: str, state: State) -> None:
    await webhooks.delete(state.deps, ws, webhook_id)


@router.post("/{webhook_id}/rotate-secret", response_model=SecretOut)
async def rotate_secret(
    ws: WorkspaceId, webhook_id: str, body: RotateSecretIn, state: State
) -> SecretOut:
    """A new signing secret; the previous one keeps signing during the grace period."""
    secret = await webhooks.rotate_secret(
        state.deps, ws, webhook_id, body.secret, body.grace_seconds
    )
    return SecretOut.of(secret)


@router.post("/{webhook_id}/replay", response_model=ReplayOut)
async def replay(ws: WorkspaceId, webhook_id: str, body: ReplayIn, state: State) -> ReplayOut:
    """Queue again every delivery of this webhook created in a time range, by status."""
    queued = await deliveries.replay(
        state.deps,
        ws,
        webhook_id,
        since=body.since.timestamp(),
        until=body.until.timestamp() if body.until else None,
        statuses=body.statuses,
    )
    return ReplayOut(queued=queued)
