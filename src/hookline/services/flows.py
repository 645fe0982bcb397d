"""Flows: named groups of webhooks sharing a trigger (event types and a payload filter) and an
aggregation window; and a flow's export, a portable document that ``flow_import`` reads.

The document names no ids, so it imports into any workspace, on any Hookline. It carries the
catalog definitions of the event types its webhooks and trigger name, and webhook secrets and
credential header values only when asked for (otherwise those headers are masked).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from hookline.domain import destinations, secret_headers
from hookline.domain.field_errors import problems as field_problems
from hookline.domain.ids import new_id
from hookline.domain.models import EventType, Flow, FlowConfig, Webhook, WebhookConfig
from hookline.domain.timefmt import iso
from hookline.errors import NotFound, every_problem
from hookline.services.deps import Deps
from hookline.store import Store

#: The ``hookline`` field of an export document.
FORMAT = "flow-export"
_PAGE = 500


async def create_flow(
    deps: Deps, workspace_id: str, name: str, description: str, config: FlowConfig
) -> Flow:
    now = time.time()
    flow = Flow(new_id("flow"), workspace_id, name, description, now, now, config)
    await deps.store.config.save_flow(flow, create=True)
    return flow


async def list_flows(deps: Deps, workspace_id: str) -> list[Flow]:
    return await deps.store.config.list_flows(workspace_id)


async def get_flow(deps: Deps, workspace_id: str, flow_id: str) -> Flow:
    found = await deps.store.config.get_flow(workspace_id, flow_id)
    if found is None:
        raise NotFound(f"flow {flow_id} not found")
    return found


async def update_flow(
    deps: Deps, workspace_id: str, flow_id: str, changes: Mapping[str, Any]
) -> Flow:
    """Change what ``changes`` names: ``name``, ``description`` (None keeps them) and the
    trigger's fields (``events``, ``filter``, ``aggregation_seconds``, …); every invalid field
    is reported at once."""
    current = await get_flow(deps, workspace_id, flow_id)
    trigger = {k: v for k, v in changes.items() if k not in ("name", "description")}
    try:
        config = FlowConfig.model_validate(current.config.model_dump() | trigger)
    except ValidationError as exc:
        raise every_problem(field_problems(exc.errors())) from None
    names = {k: changes[k] for k in ("name", "description") if changes.get(k) is not None}
    updated = replace(current, **names, config=config, updated_at=time.time())
    await deps.store.config.save_flow(updated, create=False)
    return updated


async def delete_flow(deps: Deps, workspace_id: str, flow_id: str) -> None:
    if not await deps.store.config.delete_flow(workspace_id, flow_id):
        raise NotFound(f"flow {flow_id} not found")


async def flow_members(deps: Deps, workspace_id: str, flow_id: str) -> list[Webhook]:
    """The webhooks of a flow, every page of them."""
    return await _flow_webhooks(deps.store, workspace_id, flow_id)


async def export_flow(
    deps: Deps, workspace_id: str, flow_id: str, *, include_secrets: bool = False
) -> dict[str, Any]:
    """The flow as a portable document; webhook secrets only with ``include_secrets``."""
    flow = await get_flow(deps, workspace_id, flow_id)
    hooks = await _flow_webhooks(deps.store, workspace_id, flow_id)
    named = event_names(flow.config, [h.config for h in hooks])
    seen = await deps.store.catalog.workspace_event_types(workspace_id)
    catalog = [et for et in seen if et.name in named]
    return {
        "hookline": FORMAT,
        "version": 1,
        "exported_at": iso(time.time()),
        "flow": {
            "name": flow.name,
            "description": flow.description,
            **flow.config.model_dump(mode="json"),
        },
        "webhooks": [_exported(h, include_secrets) for h in hooks],
        "event_types": [_exported_type(et) for et in catalog],
    }


def event_names(flow: FlowConfig, configs: list[WebhookConfig]) -> set[str]:
    """The event types named exactly (not by a ``*`` pattern) by a trigger or a webhook."""
    patterns = [*flow.events, *(p for c in configs for p in c.events)]
    return {p for p in patterns if "*" not in p}


async def _flow_webhooks(store: Store, workspace_id: str, flow_id: str) -> list[Webhook]:
    hooks: list[Webhook] = []
    cursor: str | None = None
    while True:
        page = await store.config.list_webhooks(
            workspace_id, limit=_PAGE, cursor=cursor, flow_id=flow_id
        )
        hooks += page.items
        if page.next_cursor is None:
            return hooks
        cursor = page.next_cursor


def _exported(hook: Webhook, include_secrets: bool) -> dict[str, Any]:
    data = hook.config.model_dump(mode="json", exclude={"flow"})
    if include_secrets and hook.secrets:
        data["secret"] = hook.secrets[0].secret
    if not include_secrets:
        data["headers"] = secret_headers.mask(hook.config.headers, hook.config.secret_headers)
        if hook.config.broker is not None:
            data[hook.config.kind]["url"] = destinations.mask_url(hook.config.broker.url)
    return data


def _exported_type(et: EventType) -> dict[str, Any]:
    return {
        "name": et.name,
        "description": et.description,
        "schema": et.schema,
        "example": et.example,
    }
