"""Webhooks: the list, the detail page, and the create and edit forms.

The forms save through the services the REST API uses (``hookline.services.webhooks``), so
the rules and the messages are the API's. Every problem of a submission is shown at once, each
beside the field it names.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from hookline.dashboard import stats
from hookline.dashboard.charts import chart, percentiles, summarize
from hookline.dashboard.destination_form import KIND_CHOICES
from hookline.dashboard.forms import read_form
from hookline.dashboard.web import PageRoute, Visitor, redirect, visitor
from hookline.dashboard.webhook_form import (
    api_body,
    api_error,
    blank_values,
    problem_errors,
    values_from_config,
    values_from_form,
)
from hookline.domain import secret_headers, signing
from hookline.domain.models import CONTENT_TYPES, METHODS, DeliveryStatus, Webhook, WebhookConfig
from hookline.errors import ApiError
from hookline.services import deliveries, webhooks
from hookline.store import DeliveryQuery
from hookline.wire.schemas import WebhookOut

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Who = Annotated[Visitor, Depends(visitor)]
_STATUS_FILTERS = {"enabled": True, "disabled": False}
_QOS_LEVELS = (("1", "1: at least once (PUBACK)"), ("2", "2: exactly once (PUBCOMP)"))


@router.get("/webhooks")
async def list_page(
    who: Who,
    q: Annotated[str, Query(max_length=200)] = "",
    status: str = "",
    flow: str = "",
    cursor: str | None = None,
) -> Response:
    store = who.state.store
    page = await webhooks.list_page(
        who.state.deps,
        who.ws,
        limit=50,
        cursor=cursor,
        enabled=_STATUS_FILTERS.get(status),
        flow_id=flow or None,
        search=q.strip() or None,
    )
    hooks: list[Webhook] = page.items
    summary = await stats.summaries(store, who.ws, hooks)
    if status == "failing":
        hooks = [h for h in hooks if summary[h.id].failing]
    flows = await store.config.list_flows(who.ws)
    return who.page(
        "webhooks.html",
        hooks=hooks,
        summary=summary,
        next_cursor=page.next_cursor,
        filters={"q": q, "status": status, "flow": flow},
        flows=flows,
        nav="webhooks",
    )


async def _form(
    who: Who,
    hook: Webhook | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    catalog = await who.state.store.catalog.workspace_event_types(who.ws)
    flows = await who.state.store.config.list_flows(who.ws)
    return who.page(
        "webhook_form.html",
        status,
        hook=hook,
        values=values,
        errors=errors,
        catalog=[et.name for et in catalog],
        flows=flows,
        schemes=signing.SCHEMES,
        methods=METHODS,
        content_types=CONTENT_TYPES,
        kinds=KIND_CHOICES,
        qos_levels=_QOS_LEVELS,
        nav="webhooks",
    )


@router.get("/webhooks/new")
async def new_page(who: Who) -> Response:
    return await _form(who, None, blank_values(), {})


@router.post("/webhooks/new")
async def create(who: Who) -> Response:
    values = values_from_form(await read_form(who.request))
    body, errors = api_body(values)
    secret = values["secret"].strip() or None
    problems = await webhooks.draft_problems(who.state.deps, who.ws, body, secret=secret)
    if problems or errors:
        return await _form(who, None, values, problem_errors(problems) | errors, 422)
    try:
        created = await webhooks.create(
            who.state.deps, who.ws, WebhookConfig.model_validate(body), secret
        )
    except ApiError as exc:
        return await _form(who, None, values, api_error(exc), exc.status)
    return redirect(who.request, f"/webhooks/{created.id}?created=1")


@router.get("/webhooks/{webhook_id}/edit")
async def edit_page(who: Who, webhook_id: str) -> Response:
    hook = await webhooks.load(who.state.deps, who.ws, webhook_id)
    seen = await who.state.store.catalog.workspace_event_types(who.ws)
    catalog = [et.name for et in seen]
    return await _form(who, hook, values_from_config(hook.config, catalog), {})


@router.post("/webhooks/{webhook_id}/edit")
async def edit(who: Who, webhook_id: str) -> Response:
    deps = who.state.deps
    hook = await webhooks.load(deps, who.ws, webhook_id)
    values = values_from_form(await read_form(who.request))
    body, errors = api_body(values)
    problems = await webhooks.draft_problems(deps, who.ws, body, current=hook)
    if problems or errors:
        return await _form(who, hook, values, problem_errors(problems) | errors, 422)
    try:
        await webhooks.update(deps, who.ws, webhook_id, body)
    except ApiError as exc:
        return await _form(who, hook, values, api_error(exc), exc.status)
    return redirect(who.request, f"/webhooks/{webhook_id}?saved=1")


@router.get("/webhooks/{webhook_id}")
async def detail_page(
    who: Who,
    webhook_id: str,
    status: DeliveryStatus | None = None,
    cursor: str | None = None,
    created: bool = False,
    saved: bool = False,
) -> Response:
    hook = await webhooks.load(who.state.deps, who.ws, webhook_id)
    store, now = who.state.store, time.time()
    query = DeliveryQuery(webhook_id=webhook_id, status=status, limit=25, cursor=cursor)
    page = await deliveries.list_page(who.state.deps, who.ws, query)
    day = await stats.since(store, who.ws, webhook_id, now - 24 * 3600)
    latency = percentiles(await stats.latencies(store, who.ws, day or page.items))
    return who.page(
        "webhook.html",
        hook=hook,
        raw=WebhookOut.of(hook).model_dump(mode="json", exclude={"secret"}),
        credential_headers=sorted(
            secret_headers.credential_names(hook.config.headers, hook.config.secret_headers)
        ),
        deliveries=page.items,
        next_cursor=page.next_cursor,
        status_filter=status.value if status else "",
        chart=chart(day, now=now),
        latency=latency,
        summary=summarize(day),
        statuses=list(DeliveryStatus),
        notice="Webhook created." if created else "Saved." if saved else None,
        nav="webhooks",
    )
