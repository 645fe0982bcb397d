"""An endpoint's health as the customer portal shows it: success rate, attempts, failures,
latency percentiles and outcomes per time bucket over the last 24 hours or 7 days, computed by
the store from every attempt of the window (``store.log.webhook_health``), not sampled.

Buckets start on whole hours (UTC), every six hours for the week, and the last one holds now,
so two reads in the same hour draw the same bars.
"""

from __future__ import annotations

import math
import time

from hookline.domain.models import Webhook
from hookline.domain.portal_access import Customer
from hookline.domain.records import record
from hookline.errors import ValidationFailed
from hookline.services.deps import Deps
from hookline.services.portal_endpoints import endpoint
from hookline.store import WebhookHealth

__all__ = ["DEFAULT_WINDOW", "WINDOWS", "EndpointHealth", "Window", "health", "window_bounds"]


@record
class Window:
    """A health window: its query value, its name, its length and its buckets' (seconds)."""

    key: str
    label: str
    span: int
    bucket: int


WINDOWS = {
    "24h": Window("24h", "Last 24 hours", 86_400, 3_600),
    "7d": Window("7d", "Last 7 days", 7 * 86_400, 6 * 3_600),
}
DEFAULT_WINDOW = "24h"


@record
class EndpointHealth:
    """The endpoint's attempts started in ``[since, until)``."""

    endpoint: Webhook
    window: Window
    since: float
    until: float
    health: WebhookHealth


def window_bounds(window: Window, now: float) -> tuple[float, float]:
    """The window's start and end: whole buckets, the last one holding ``now``."""
    until = float((math.floor(now / window.bucket) + 1) * window.bucket)
    return until - window.span, until


async def health(
    deps: Deps, customer: Customer, endpoint_id: str, window: str, now: float | None = None
) -> EndpointHealth:
    """The endpoint's health over ``window`` (a key of :data:`WINDOWS`)."""
    hook = await endpoint(deps, customer, endpoint_id)
    chosen = WINDOWS.get(window)
    if chosen is None:
        raise ValidationFailed("window: 24h or 7d", field="window")
    since, until = window_bounds(chosen, time.time() if now is None else now)
    found = await deps.store.log.webhook_health(
        customer.workspace_id, hook.id, since=since, until=until, bucket_seconds=chosen.bucket
    )
    return EndpointHealth(hook, chosen, since, until, found)
