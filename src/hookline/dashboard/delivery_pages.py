"""A delivery and every attempt's full request and response; retrying it by hand."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from hookline.dashboard.web import PageRoute, Visitor, visitor
from hookline.services import deliveries
from hookline.wire.schemas import AttemptOut

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Who = Annotated[Visitor, Depends(visitor)]


async def _attempts(who: Visitor, delivery_id: str, notice: str | None, full: bool) -> Response:
    found = await deliveries.get_with_attempts(who.state.deps, who.ws, delivery_id)
    delivery, attempts = found.delivery, found.attempts
    store = who.state.store
    return who.page(
        "delivery.html" if full else "_attempts.html",
        delivery=delivery,
        attempts=[AttemptOut.of(a) for a in reversed(attempts)],
        event=await store.history.get_event(who.ws, delivery.event_id) if full else None,
        hook=await store.config.get_webhook(who.ws, delivery.webhook_id) if full else None,
        notice=notice,
        nav="webhooks",
    )


@router.get("/deliveries/{delivery_id}")
async def delivery_page(who: Who, delivery_id: str) -> Response:
    return await _attempts(who, delivery_id, None, full=True)


@router.get("/deliveries/{delivery_id}/attempts")
async def attempts_fragment(who: Who, delivery_id: str) -> Response:
    """The attempts section, which polls itself while the delivery is pending."""
    return await _attempts(who, delivery_id, None, full=False)


@router.post("/deliveries/{delivery_id}/retry")
async def retry(who: Who, delivery_id: str) -> Response:
    await deliveries.retry(who.state.deps, who.ws, delivery_id)
    return await _attempts(who, delivery_id, "Queued again: a worker sends it now.", full=False)
