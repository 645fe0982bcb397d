"""Flow export and import: a flow, its trigger and its webhooks as one portable JSON document.

The document names no ids, so it imports into any workspace, on any Hookline. It carries the
catalog definitions of the event types its webhooks and trigger name, and webhook secrets and
credential header values only when asked for (otherwise those headers are masked, and an
import leaves them out and lists them). An import is validated whole before anything is
written: a name that exists (the flow's or any webhook's) answers 409 with every conflict and
changes nothing. Should a write still fail (a concurrent request took a name), what the import
created is removed again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hookline.api.auth import WorkspaceId
from hookline.api.catalog import _check_schema
from hookline.api.state import AppState, State
from hookline.domain import secret_headers, signing
from hookline.domain.address_policy import AddressPolicy, BlockedAddress, check_url_host
from hookline.domain.ids import new_id
from hookline.domain.models import EventType, Flow, FlowConfig, SecretEntry, Webhook, WebhookConfig
from hookline.domain.timefmt import iso
from hookline.errors import Conflict, LimitExceeded, NotFound, SigningError, ValidationFailed
from hookline.wire.schemas import EventTypeIn, FlowIn, FlowOut, WebhookOut
from hookline.wire.validation import describe

router = APIRouter(prefix="/v1/workspaces/{ws}/flows", tags=["catalog"])
FORMAT = "flow-export"
_PAGE = 500


class FlowDocument(BaseModel):
    """What ``export`` writes and ``import`` reads; ``name`` imports under another name."""

    model_config = ConfigDict(extra="forbid")

    hookline: Literal["flow-export"]
    version: Literal[1]
    exported_at: str | None = None
    flow: FlowIn
    webhooks: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)
    event_types: list[EventTypeIn] = Field(default_factory=list, max_length=1000)
    name: str | None = Field(default=None, min_length=1, max_length=200)


class HeaderLeftOut(BaseModel):
    webhook: str
    header: str


class ImportOut(BaseModel):
    flow: FlowOut
    webhooks: list[WebhookOut] = Field(description="A generated secret is shown here, once.")
    created_event_types: list[str]
    headers_left_out: list[HeaderLeftOut] = Field(
        description="Credential headers the document masks (exported without secrets): set"
        " their values on the imported webhooks."
    )


@dataclass(frozen=True, slots=True)
class _Planned:
    config: WebhookConfig
    secrets: tuple[SecretEntry, ...]
    generated: bool
    left_out: tuple[str, ...] = ()


@router.get("/{flow_id}/export")
async def export_flow(
    ws: WorkspaceId, flow_id: str, state: State, include_secrets: bool = False
) -> dict[str, Any]:
    """The flow as a portable document; webhook secrets only with ``include_secrets``."""
    flow = await state.store.get_flow(ws, flow_id)
    if flow is None:
        raise NotFound(f"flow {flow_id} not found")
    hooks = await _flow_webhooks(state, ws, flow_id)
    named = _event_names(flow.config, [h.config for h in hooks])
    catalog = [et for et in await state.store.list_event_types(ws) if et.name in named]
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


@router.post("/import", status_code=status.HTTP_201_CREATED, response_model=ImportOut)
async def import_flow(ws: WorkspaceId, body: FlowDocument, state: State) -> Any:
    """Recreate an exported flow and its webhooks here; 409 with ``conflicts`` if a name is
    taken. Event types the document names and this catalog lacks are created."""
    name = body.name or body.flow.name
    config = FlowConfig.model_validate(body.flow.model_dump(exclude={"name", "description"}))
    planned = [_plan(i, raw) for i, raw in enumerate(body.webhooks)]
    _check_plans(state, planned)
    for i, et in enumerate(body.event_types):
        try:
            _check_schema(et.schema_, et.example)
        except ValidationFailed as exc:
            raise ValidationFailed(f"event_types.{i}: {exc}", field=f"event_types.{i}") from None
    conflicts = await _conflicts(state, ws, name, [p.config.name for p in planned])
    if conflicts:
        return _conflict_response(conflicts)
    missing = await _missing_event_types(state, ws, config, planned, body.event_types)
    now = time.time()
    flow = Flow(new_id("flow"), ws, name, body.flow.description, now, now, config)
    hooks = [
        Webhook(
            new_id("wh"), ws, p.config.model_copy(update={"flow": flow.id}), p.secrets, now, now
        )
        for p in planned
    ]
    await _create(state, missing, flow, hooks)
    return ImportOut(
        flow=FlowOut.of(flow),
        webhooks=[
            WebhookOut.of(h, include_secret=p.generated, reveal_headers=False)
            for h, p in zip(hooks, planned, strict=True)
        ],
        created_event_types=[et.name for et in missing],
        headers_left_out=[
            HeaderLeftOut(webhook=p.config.name, header=h) for p in planned for h in p.left_out
        ],
    )


async def _flow_webhooks(state: AppState, ws: str, flow_id: str) -> list[Webhook]:
    hooks: list[Webhook] = []
    cursor: str | None = None
    while True:
        page = await state.store.list_webhooks(ws, limit=_PAGE, cursor=cursor, flow_id=flow_id)
        hooks += page.items
        if page.next_cursor is None:
            return hooks
        cursor = page.next_cursor


def _event_names(flow: FlowConfig, configs: list[WebhookConfig]) -> set[str]:
    """The event types named exactly (not by a ``*`` pattern) by a trigger or a webhook."""
    patterns = [*flow.events, *(p for c in configs for p in c.events)]
    return {p for p in patterns if "*" not in p}


def _exported(hook: Webhook, include_secrets: bool) -> dict[str, Any]:
    data = hook.config.model_dump(mode="json", exclude={"flow"})
    if include_secrets and hook.secrets:
        data["secret"] = hook.secrets[0].secret
    if not include_secrets:
        data["headers"] = secret_headers.mask(hook.config.headers, hook.config.secret_headers)
    return data


def _exported_type(et: EventType) -> dict[str, Any]:
    return {
        "name": et.name,
        "description": et.description,
        "schema": et.schema,
        "example": et.example,
    }


def _plan(index: int, raw: dict[str, Any]) -> _Planned:
    """A document's webhook validated as a new webhook would be; no secret for a signed
    webhook (exported without secrets) means a newly generated one, and masked header values
    (exported without secrets too) are left out."""
    where = f"webhooks.{index}"
    secret = raw.get("secret")
    data = {k: v for k, v in raw.items() if k not in ("secret", "flow")}
    left_out: tuple[str, ...] = ()
    if isinstance(data.get("headers"), dict):
        left_out = tuple(secret_headers.masked(data["headers"]))
        data["headers"] = {k: v for k, v in data["headers"].items() if k not in left_out}
    try:
        config = WebhookConfig.model_validate(data)
    except ValidationError as exc:
        field, message = describe(exc.errors()[0])
        path = f"{where}.{field}" if field else where
        raise ValidationFailed(f"{path}: {message}", field=path) from None
    if secret is not None and not isinstance(secret, str):
        raise ValidationFailed(f"{where}.secret: must be a string", field=f"{where}.secret")
    generated = secret == "generate" or (secret is None and bool(config.signature_schemes))
    if generated:
        secret = signing.generate_secret()
    if secret is None:
        return _Planned(config, (), False, left_out)
    schemes = config.signature_schemes or ["standard"]
    try:
        signing.validate_secret(secret, schemes)
    except SigningError as exc:
        raise ValidationFailed(f"{where}.secret: {exc}", field=f"{where}.secret") from None
    config = config.model_copy(update={"signature_schemes": schemes})
    return _Planned(config, (SecretEntry(secret),), generated, left_out)


def _check_plans(state: AppState, planned: list[_Planned]) -> None:
    limit = state.settings.max_webhooks_per_flow
    if len(planned) > limit:
        raise LimitExceeded(f"webhooks: a flow holds at most {limit} webhooks", field="webhooks")
    seen: set[str] = set()
    policy = AddressPolicy(state.settings.allowed_networks)
    for i, p in enumerate(planned):
        if p.config.name in seen:
            raise ValidationFailed(
                f"webhooks.{i}.name: {p.config.name!r} appears twice in the document",
                field=f"webhooks.{i}.name",
            )
        seen.add(p.config.name)
        try:
            if p.config.url is not None:
                check_url_host(p.config.url, policy)
        except (BlockedAddress, ValueError) as exc:
            raise ValidationFailed(f"webhooks.{i}.url: {exc}", field=f"webhooks.{i}.url") from None


async def _conflicts(
    state: AppState, ws: str, flow_name: str, hook_names: list[str]
) -> list[dict[str, str]]:
    found = []
    if any(f.name == flow_name for f in await state.store.list_flows(ws)):
        found.append({"type": "flow", "name": flow_name})
    taken: set[str] = set()
    cursor: str | None = None
    while True:
        page = await state.store.list_webhooks(ws, limit=_PAGE, cursor=cursor)
        taken.update(h.config.name for h in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    found += [{"type": "webhook", "name": n} for n in hook_names if n in taken]
    return found


def _conflict_response(conflicts: list[dict[str, str]]) -> JSONResponse:
    names = ", ".join(f"{c['type']} {c['name']!r}" for c in conflicts)
    message = f"nothing was imported: {names} already exist(s); import under another name"
    error = {"code": "conflict", "message": message, "field": None, "conflicts": conflicts}
    return JSONResponse({"error": error}, status_code=status.HTTP_409_CONFLICT)


async def _missing_event_types(
    state: AppState,
    ws: str,
    flow: FlowConfig,
    planned: list[_Planned],
    defined: list[EventTypeIn],
) -> list[EventType]:
    """Catalog entries to create: named by the document, absent here (the document's
    definition if it has one, else just the name)."""
    have = {et.name for et in await state.store.list_event_types(ws)}
    definitions = {d.name: d for d in defined}
    now = time.time()
    missing = []
    for name in sorted(_event_names(flow, [p.config for p in planned]) - have):
        d = definitions.get(name) or EventTypeIn(name=name)
        missing.append(
            EventType(new_id("et"), ws, name, d.description, d.schema_, d.example, now, now)
        )
    return missing


async def _create(
    state: AppState, event_types: list[EventType], flow: Flow, hooks: list[Webhook]
) -> None:
    """Write everything, or (when a write fails) remove again the flow and webhooks written.

    Catalog entries stay: another import or a webhook may already rely on an event type this
    request created, and an extra catalog entry harms nothing.
    """
    store, ws = state.store, flow.workspace_id
    done: list[tuple[str, str]] = []
    try:
        for et in event_types:
            try:
                await store.save_event_type(et, create=True)
            except Conflict:  # created a moment ago by another request: just as good
                continue
        await store.save_flow(flow, create=True)
        done.append(("flow", flow.id))
        for hook in hooks:
            await store.save_webhook(hook, create=True)
            done.append(("webhook", hook.id))
    except Exception:
        for kind, key in reversed(done):
            if kind == "webhook":
                await store.delete_webhook(ws, key)
            else:
                await store.delete_flow(ws, key)
        raise
