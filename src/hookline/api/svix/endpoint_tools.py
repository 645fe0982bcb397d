"""An endpoint's secret, custom headers, statistics, recovery and example message."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from hookline.api.svix import render, shapes
from hookline.api.svix.access import App, Svc
from hookline.api.svix.endpoint_config import header_changes, secret_of
from hookline.domain.ids import new_id
from hookline.domain.secret_headers import credential_names
from hookline.services import deliveries, log, references, webhook_tests, webhooks

router = APIRouter(prefix="/app/{app_id}/endpoint/{endpoint_id}", tags=["svix"])


@router.get("/secret", operation_id="v1.endpoint.get-secret", summary="Get the signing secret")
async def get_secret(deps: Svc, app: App, endpoint_id: str) -> shapes.EndpointSecretOut:
    hook = await references.webhook_by_ref(deps, app.id, endpoint_id)
    active = hook.active_secrets(time.time())
    return shapes.EndpointSecretOut(key=active[0] if active else "")


@router.post(
    "/secret/rotate",
    operation_id="v1.endpoint.rotate-secret",
    summary="Rotate the signing secret (the previous one signs on during the grace period)",
)
async def rotate_secret(
    deps: Svc, app: App, endpoint_id: str, body: shapes.EndpointSecretRotateIn
) -> shapes.EndpointSecretOut:
    hook = await references.webhook_by_ref(deps, app.id, endpoint_id)
    grace = body.grace_period_seconds
    key = await webhooks.rotate_secret(
        deps, app.id, hook.id, secret_of(body.key), None if grace is None else float(grace)
    )
    return shapes.EndpointSecretOut(key=key)


def _headers_out(headers: dict[str, str], marked: list[str]) -> shapes.EndpointHeadersOut:
    sensitive = credential_names(headers, marked)
    shown = {k: v for k, v in headers.items() if k not in sensitive}
    return shapes.EndpointHeadersOut(headers=shown, sensitive=sorted(sensitive))


@router.get("/headers", operation_id="v1.endpoint.get-headers", summary="Get custom headers")
async def get_headers(deps: Svc, app: App, endpoint_id: str) -> shapes.EndpointHeadersOut:
    hook = await references.webhook_by_ref(deps, app.id, endpoint_id)
    return _headers_out(hook.config.headers, hook.config.secret_headers)


@router.put(
    "/headers",
    operation_id="v1.endpoint.update-headers",
    summary="Replace custom headers",
    status_code=204,
)
async def update_headers(
    deps: Svc, app: App, endpoint_id: str, body: shapes.EndpointHeadersIn
) -> Response:
    hook = await references.webhook_by_ref(deps, app.id, endpoint_id)
    await webhooks.update(deps, app.id, hook.id, {"headers": body.headers})
    return Response(status_code=204)


@router.patch(
    "/headers",
    operation_id="v1.endpoint.patch-headers",
    summary="Set or remove (null) some custom headers",
    status_code=204,
)
async def patch_headers(
    deps: Svc, app: App, endpoint_id: str, body: shapes.EndpointHeadersPatchIn
) -> Response:
    hook = await references.webhook_by_ref(deps, app.id, endpoint_id)
    removed: dict[str, str | None] = dict.fromkeys(body.delete_headers)
    merged = header_changes(hook.config.headers, body.headers | removed)
    await webhooks.update(deps, app.id, hook.id, {"headers": merged})
    return Response(status_code=204)


@router.get("/stats", operation_id="v1.endpoint.get-stats", summary="Delivery counts by state")
async def get_stats(
    deps: Svc,
    app: App,
    endpoint_id: str,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
) -> shapes.EndpointStats:
    counts = await log.count_deliveries(
        deps, app.id, endpoint_id,
        None if since is None else since.timestamp(), None if until is None else until.timestamp(),
    )  # fmt: skip
    return shapes.EndpointStats(
        success=counts.succeeded, pending=counts.pending, sending=counts.sending,
        fail=counts.failed,
    )  # fmt: skip


@router.post(
    "/recover",
    operation_id="v1.endpoint.recover",
    summary="Send again every failed message since a time",
    status_code=202,
)
async def recover(
    deps: Svc, app: App, endpoint_id: str, body: shapes.RecoverIn
) -> shapes.RecoverOut:
    hook = await references.webhook_by_ref(deps, app.id, endpoint_id)
    until = None if body.until is None else body.until.timestamp()
    await deliveries.replay(deps, app.id, hook.id, since=body.since.timestamp(), until=until)
    # The failed deliveries are queued again before this answers: the task is done.
    return shapes.RecoverOut(
        id=new_id("qtask"), status="finished", task="endpoint.recover",
        updated_at=render.when(time.time()),
    )  # fmt: skip


@router.post(
    "/send-example",
    operation_id="v1.endpoint.send-example",
    summary="Send an example message of an event type to this endpoint now",
    status_code=202,
)
async def send_example(
    deps: Svc, app: App, endpoint_id: str, body: shapes.EventExampleIn
) -> shapes.MessageOut:
    hook = await references.webhook_by_ref(deps, app.id, endpoint_id)
    result = await webhook_tests.send_test(deps, app.id, hook.id, type=body.event_type)
    return render.message(result.event)
