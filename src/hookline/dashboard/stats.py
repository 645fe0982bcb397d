"""Reading what the statistics are computed from, through the store's domain operations.

The store has no aggregate queries yet, so these read bounded samples: the latest deliveries
of a webhook, and the attempts of the latest few for latency percentiles.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from hookline.dashboard.charts import Summary, summarize
from hookline.domain.models import Delivery, Webhook
from hookline.store import DeliveryQuery, Store

RECENT = 100
LATENCY_SAMPLE = 50
_PAGE = 500


async def recent(store: Store, ws: str, webhook_id: str, limit: int = RECENT) -> list[Delivery]:
    page = await store.history.list_deliveries(
        ws, DeliveryQuery(webhook_id=webhook_id, limit=limit)
    )
    return list(page.items)


async def summaries(store: Store, ws: str, hooks: Sequence[Webhook]) -> dict[str, Summary]:
    found = await asyncio.gather(*(recent(store, ws, h.id) for h in hooks))
    return {h.id: summarize(d) for h, d in zip(hooks, found, strict=True)}


async def since(
    store: Store, ws: str, webhook_id: str, start: float, cap: int = 2000
) -> list[Delivery]:
    """The webhook's deliveries created since ``start``, newest first, at most ``cap``."""
    found: list[Delivery] = []
    cursor: str | None = None
    while len(found) < cap:
        query = DeliveryQuery(webhook_id=webhook_id, since=start, limit=_PAGE, cursor=cursor)
        page = await store.history.list_deliveries(ws, query)
        found += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return found[:cap]


async def latencies(store: Store, ws: str, deliveries: Sequence[Delivery]) -> list[float]:
    """Durations (ms) of every attempt of the latest deliveries that were attempted."""
    tried = [d for d in deliveries if d.attempts > 0][:LATENCY_SAMPLE]
    found = await asyncio.gather(*(store.history.list_attempts(ws, d.id) for d in tried))
    return [a.duration_ms for attempts in found for a in attempts]
