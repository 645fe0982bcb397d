"""Deliveries: listing them, one with its attempts, retrying one by hand, and queueing again
every delivery of a webhook made in a time range (replay)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from hookline.domain.models import Attempt, Delivery, DeliveryStatus, Page
from hookline.domain.records import record
from hookline.errors import Conflict, NotFound
from hookline.services.deps import Deps
from hookline.services.webhooks import load as load_webhook
from hookline.store import DeliveryQuery

__all__ = ["DeliveryQuery", "DeliveryRecord", "get", "get_with_attempts", "list_page", "replay"]


@record
class DeliveryRecord:
    """A delivery and its attempts, first attempt first."""

    delivery: Delivery
    attempts: list[Attempt]


async def list_page(deps: Deps, ws: str, query: DeliveryQuery) -> Page:
    """One page of the workspace's deliveries, newest first, as ``query`` selects."""
    return await deps.store.history.list_deliveries(ws, query)


async def get(deps: Deps, ws: str, delivery_id: str) -> Delivery:
    """The delivery; :class:`NotFound` if the workspace has no such delivery."""
    found = await deps.store.history.get_delivery(ws, delivery_id)
    if found is None:
        raise NotFound(f"delivery {delivery_id} not found")
    return found


async def get_with_attempts(deps: Deps, ws: str, delivery_id: str) -> DeliveryRecord:
    delivery = await get(deps, ws, delivery_id)
    return DeliveryRecord(delivery, await deps.store.history.list_attempts(ws, delivery_id))


async def retry(deps: Deps, ws: str, delivery_id: str) -> Delivery:
    """Queue the delivery again now; its retry schedule starts again from the first step.
    :class:`Conflict` while a worker is attempting it."""
    await get(deps, ws, delivery_id)
    if not await deps.store.history.retry_delivery(ws, delivery_id, time.time()):
        raise Conflict("the delivery is being attempted right now; try again shortly")
    return await get(deps, ws, delivery_id)


async def replay(
    deps: Deps,
    ws: str,
    webhook_id: str,
    *,
    since: float,
    until: float | None = None,
    statuses: Sequence[DeliveryStatus] = (DeliveryStatus.FAILED,),
) -> int:
    """Queue again every delivery of the webhook created from ``since`` until ``until``
    (default: now) whose status is one of ``statuses``; answers how many."""
    await load_webhook(deps, ws, webhook_id)
    now = time.time()
    return await deps.store.history.replay_webhook(
        ws,
        webhook_id,
        since=since,
        until=now + 1 if until is None else until,
        statuses=statuses,
        now=now,
    )
