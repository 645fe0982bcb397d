"""Deliveries and their attempts; manual retry; the webhook Test button."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from hookline.api.auth import WorkspaceId
from hookline.api.state import AppState, State
from hookline.api.webhooks import load_webhook
from hookline.delivery.attempt import attempt_delivery
from hookline.delivery.email import smtp_config
from hookline.domain.models import AttemptOutcome, Claimed, DeliveryStatus
from hookline.errors import Conflict, NotFound
from hookline.services.publishing import new_delivery, new_event
from hookline.store import DeliveryQuery
from hookline.wire.schemas import AttemptOut, DeliveryDetail, DeliveryOut, ListOut, TestIn, TestOut

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["deliveries"])


@router.get("/deliveries", response_model=ListOut)
async def list_deliveries(
    ws: WorkspaceId,
    state: State,
    webhook_id: str | None = None,
    event_id: str | None = None,
    status: DeliveryStatus | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> ListOut:
    query = DeliveryQuery(
        webhook_id=webhook_id,
        event_id=event_id,
        status=status,
        since=since.timestamp() if since else None,
        until=until.timestamp() if until else None,
        limit=limit,
        cursor=cursor,
    )
    page = await state.store.list_deliveries(ws, query)
    return ListOut(data=[DeliveryOut.of(d) for d in page.items], next_cursor=page.next_cursor)


@router.get("/deliveries/{delivery_id}", response_model=DeliveryDetail)
async def get_delivery(ws: WorkspaceId, delivery_id: str, state: State) -> DeliveryDetail:
    found = await state.store.get_delivery(ws, delivery_id)
    if found is None:
        raise NotFound(f"delivery {delivery_id} not found")
    attempts = await state.store.list_attempts(ws, delivery_id)
    return DeliveryDetail(
        **DeliveryOut.of(found).model_dump(), attempts=[AttemptOut.of(a) for a in attempts]
    )


@router.post("/deliveries/{delivery_id}/retry", status_code=202, response_model=DeliveryOut)
async def retry_delivery(ws: WorkspaceId, delivery_id: str, state: State) -> DeliveryOut:
    """Queue a delivery again now; its retry schedule starts again from the first step."""
    if await state.store.get_delivery(ws, delivery_id) is None:
        raise NotFound(f"delivery {delivery_id} not found")
    if not await state.store.retry_delivery(ws, delivery_id, time.time()):
        raise Conflict("the delivery is being attempted right now; try again shortly")
    found = await state.store.get_delivery(ws, delivery_id)
    assert found is not None
    return DeliveryOut.of(found)


@router.post("/webhooks/{webhook_id}/test", status_code=status.HTTP_200_OK, response_model=TestOut)
async def test_webhook(ws: WorkspaceId, webhook_id: str, body: TestIn, state: State) -> TestOut:
    """Send one real delivery of a sample event now and answer with the attempt."""
    hook = await load_webhook(state, ws, webhook_id)
    event_type, payload = await _sample(state, ws, hook.config.events, body)
    now = time.time()
    event = new_event(ws, event_type, payload, None, now)
    # Stored as already finished so no worker picks it up; the attempt below settles it.
    delivery = replace(new_delivery(event, hook.id, now), status=DeliveryStatus.FAILED)
    await state.store.publish(event, [delivery])
    smtp = smtp_config(state.settings.smtp_url)
    outcome, _ = await attempt_delivery(
        state.sender,
        Claimed(delivery, event, hook),
        smtp=smtp,
        max_body_bytes=state.settings.max_body_bytes,
    )
    final = (
        DeliveryStatus.SUCCEEDED if outcome.attempt.error_class is None else DeliveryStatus.FAILED
    )
    await state.store.record([AttemptOutcome(outcome.attempt, final, now)], time.time())
    return TestOut(
        success=final is DeliveryStatus.SUCCEEDED,
        event_id=event.id,
        delivery_id=delivery.id,
        attempt=AttemptOut.of(outcome.attempt),
    )


async def _sample(state: AppState, ws: str, patterns: list[str], body: TestIn) -> tuple[str, Any]:
    names = [p for p in patterns if p != "*" and not p.endswith(".*")]
    event_type = body.type or (names[0] if names else "hookline.test")
    if body.payload is not None:
        return event_type, body.payload
    known = await state.store.get_event_type(ws, event_type)
    if known is not None and known.example is not None:
        return event_type, known.example
    return event_type, {"type": event_type, "test": True, "message": "Test event from Hookline"}
