"""Deliveries and their attempts over REST; manual retry; the webhook Test button
(``hookline.services.deliveries`` and ``hookline.services.webhook_tests`` do the work)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from hookline.api.auth import WorkspaceId
from hookline.api.state import State
from hookline.domain.models import DeliveryStatus
from hookline.services import deliveries, webhook_tests
from hookline.store import DeliveryQuery
from hookline.wire.schemas import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    ListOut,
    TestIn,
    TestOut,
    Timestamp,
)

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["deliveries"])


@router.get("/deliveries", response_model=ListOut)
async def list_deliveries(
    ws: WorkspaceId,
    state: State,
    webhook_id: str | None = None,
    event_id: str | None = None,
    status: DeliveryStatus | None = None,
    since: Timestamp | None = None,
    until: Timestamp | None = None,
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
    page = await deliveries.list_page(state.deps, ws, query)
    return ListOut(data=[DeliveryOut.of(d) for d in page.items], next_cursor=page.next_cursor)


@router.get("/deliveries/{delivery_id}", response_model=DeliveryDetail)
async def get_delivery(ws: WorkspaceId, delivery_id: str, state: State) -> DeliveryDetail:
    found = await deliveries.get_with_attempts(state.deps, ws, delivery_id)
    return DeliveryDetail(
        **DeliveryOut.of(found.delivery).model_dump(),
        attempts=[AttemptOut.of(a) for a in found.attempts],
    )


@router.post("/deliveries/{delivery_id}/retry", status_code=202, response_model=DeliveryOut)
async def retry_delivery(ws: WorkspaceId, delivery_id: str, state: State) -> DeliveryOut:
    """Queue a delivery again now; its retry schedule starts again from the first step."""
    return DeliveryOut.of(await deliveries.retry(state.deps, ws, delivery_id))


@router.post("/webhooks/{webhook_id}/test", status_code=status.HTTP_200_OK, response_model=TestOut)
async def test_webhook(ws: WorkspaceId, webhook_id: str, body: TestIn, state: State) -> TestOut:
    """Send one real delivery of a sample event now and answer with the attempt."""
    result = await webhook_tests.send_test(
        state.deps, ws, webhook_id, type=body.type, payload=body.payload
    )
    return TestOut(
        success=result.success,
        event_id=result.event.id,
        delivery_id=result.delivery.id,
        attempt=AttemptOut.of(result.attempt),
    )
