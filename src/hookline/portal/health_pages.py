"""The portal's endpoint health and recover pages: success rate, attempts, failures, latency
percentiles and a chart of the last 24 hours or 7 days (``services.portal_health``, computed by
the store), and sending an endpoint's failed messages of a time range again
(``services.portal_messages.recover``).

The recover form's times are ``datetime-local`` values read as UTC, which the page says; a
read-only link is shown no form (and its POST is refused before reaching here).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from hookline.dashboard.charts import Tick, every, stacked
from hookline.dashboard.forms import read_form
from hookline.dashboard.webhook_form import api_error
from hookline.domain.models import Webhook
from hookline.errors import ValidationFailed
from hookline.portal.times import local, utc
from hookline.portal.web import PortalRoute, Visit, visit
from hookline.services import portal_endpoints, portal_health, portal_messages
from hookline.services.portal_health import DEFAULT_WINDOW, WINDOWS

router = APIRouter(route_class=PortalRoute, include_in_schema=False)
On = Annotated[Visit, Depends(visit)]
BASE = "/portal/endpoints/{}"
#: Where the chart's axis is labelled: every 6 hours over a day, every day over a week (UTC).
TICKS: dict[str, Tick] = {"24h": every(6 * 3600, "%H:%M"), "7d": every(86_400, "%d %b")}
_DEFAULT_RANGE = 86_400


@router.get(BASE.format("{endpoint_id}") + "/health")
async def health_page(
    on: On, endpoint_id: str, window: Annotated[str, Query(max_length=8)] = DEFAULT_WINDOW
) -> Response:
    found = await portal_health.health(on.deps, on.customer, endpoint_id, window)
    buckets = found.health.buckets
    chart = stacked(
        [(b.start, b.succeeded, b.failed) for b in buckets], tick=TICKS[found.window.key]
    )
    base = BASE.format(found.endpoint.id)
    return on.page(
        "health.html",
        path=f"{base}/health?window={found.window.key}",
        found=found,
        hook=found.endpoint,
        stats=found.health,
        chart=chart,
        windows=list(WINDOWS.values()),
        base=base,
        nav="endpoints",
    )


@router.get(BASE.format("{endpoint_id}") + "/recover")
async def recover_form(on: On, endpoint_id: str) -> Response:
    hook = await portal_endpoints.endpoint(on.deps, on.customer, endpoint_id)
    now = time.time()
    values = {"since": local(now - _DEFAULT_RANGE), "until": local(now)}
    return _recover_page(on, hook, values, {})


@router.post(BASE.format("{endpoint_id}") + "/recover")
async def recover(on: On, endpoint_id: str) -> Response:
    hook = await portal_endpoints.endpoint(on.deps, on.customer, endpoint_id)
    form = await read_form(on.request)
    values = {name: form.get(name).strip() for name in ("since", "until")}
    errors: dict[str, str] = {}
    since = utc(values["since"], "since", errors)
    until = utc(values["until"], "until", errors) if values["until"] else time.time()
    if since is None or until is None:
        return _recover_page(on, hook, values, errors, status=422)
    try:
        queued = await portal_messages.recover(
            on.deps, on.customer, hook.id, since=since, until=until
        )
    except ValidationFailed as exc:
        return _recover_page(on, hook, values, api_error(exc), status=422)
    notice = f"{queued} failed message{'' if queued == 1 else 's'} queued again."
    return _recover_page(on, hook, values, {}, notice=notice)


def _recover_page(
    on: Visit,
    hook: Webhook,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    base = BASE.format(hook.id)
    context: dict[str, Any] = {"hook": hook, "values": values, "errors": errors, "base": base}
    path = f"{base}/recover"
    return on.page("recover.html", status, path=path, notice=notice, nav="endpoints", **context)
