"""Importing a flow document (``hookline.services.flows.export_flow`` writes them): the flow,
its trigger and its webhooks are recreated in a workspace, with the event types the document
names and the catalog lacks.

An import is validated whole before anything is written: a name that exists (the flow's or any
webhook's) raises ``NamesTaken`` listing every conflict, and changes nothing. Should a write
still fail (a concurrent request took a name), what the import created is removed again.
A signed webhook exported without its secret gets a new one (shown once in the result), and
credential headers exported masked are left out and listed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from hookline.delivery.resolver import check_url_host
from hookline.domain import secret_headers, signing
from hookline.domain.address_policy import AddressPolicy, BlockedAddress
from hookline.domain.ids import new_id
from hookline.domain.models import EventType, Flow, FlowConfig, SecretEntry, Webhook, WebhookConfig
from hookline.domain.records import record
from hookline.errors import Conflict, LimitExceeded, SigningError, ValidationFailed
from hookline.services.catalog import EventTypeDraft, check_schema, new_event_type
from hookline.services.deps import Deps
from hookline.services.flows import event_names, invalid
from hookline.settings import Settings

_PAGE = 500


@record
class FlowImport:
    """A document to import: the flow under ``name``, its webhooks as exported (JSON objects),
    and the catalog definitions it carries."""

    name: str
    description: str
    config: FlowConfig
    webhooks: Sequence[dict[str, Any]]
    event_types: Sequence[EventTypeDraft] = ()


@record
class ImportedWebhook:
    webhook: Webhook
    secret_generated: bool  # a new signing secret: show it, once


@record
class ImportResult:
    flow: Flow
    webhooks: list[ImportedWebhook]
    created_event_types: list[str]
    headers_left_out: list[tuple[str, str]]  # (webhook name, header): set their values


class NamesTaken(Conflict):
    """The flow's or webhooks' names exist already; ``conflicts`` lists each (type, name)."""

    def __init__(self, conflicts: list[dict[str, str]]) -> None:
        names = ", ".join(f"{c['type']} {c['name']!r}" for c in conflicts)
        super().__init__(
            f"nothing was imported: {names} already exist(s); import under another name"
        )
        self.conflicts = conflicts


@record
class _Planned:
    config: WebhookConfig
    secrets: tuple[SecretEntry, ...]
    generated: bool
    left_out: tuple[str, ...] = ()


async def import_flow(deps: Deps, workspace_id: str, document: FlowImport) -> ImportResult:
    """Recreate the document's flow and webhooks in the workspace (see the module's text)."""
    planned = await _validated(deps, workspace_id, document)
    missing = await _missing_event_types(deps, workspace_id, document, planned)
    now = time.time()
    flow = Flow(
        new_id("flow"), workspace_id, document.name, document.description, now, now,
        document.config,
    )  # fmt: skip
    hooks = [_webhook(workspace_id, flow.id, p, now) for p in planned]
    await _create(deps, missing, flow, hooks)
    return ImportResult(
        flow,
        [ImportedWebhook(h, p.generated) for h, p in zip(hooks, planned, strict=True)],
        [et.name for et in missing],
        [(p.config.name, h) for p in planned for h in p.left_out],
    )


async def _validated(deps: Deps, workspace_id: str, document: FlowImport) -> list[_Planned]:
    """The document's webhooks as they would be created, once everything is checked."""
    planned = [_plan(i, raw) for i, raw in enumerate(document.webhooks)]
    _check_plans(deps.settings, planned)
    for i, et in enumerate(document.event_types):
        try:
            check_schema(et.schema, et.example)
        except ValidationFailed as exc:
            raise ValidationFailed(f"event_types.{i}: {exc}", field=f"event_types.{i}") from None
    names = [p.config.name for p in planned]
    conflicts = await _conflicts(deps, workspace_id, document.name, names)
    if conflicts:
        raise NamesTaken(conflicts)
    return planned


def _webhook(workspace_id: str, flow_id: str, planned: _Planned, now: float) -> Webhook:
    config = planned.config.model_copy(update={"flow": flow_id})
    return Webhook(new_id("wh"), workspace_id, config, planned.secrets, now, now)


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
        raise invalid(exc, where) from None
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


def _check_plans(settings: Settings, planned: list[_Planned]) -> None:
    limit = settings.max_webhooks_per_flow
    if len(planned) > limit:
        raise LimitExceeded(f"webhooks: a flow holds at most {limit} webhooks", field="webhooks")
    seen: set[str] = set()
    policy = AddressPolicy(settings.allowed_networks)
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
    deps: Deps, workspace_id: str, flow_name: str, hook_names: list[str]
) -> list[dict[str, str]]:
    store = deps.store
    found = []
    if any(f.name == flow_name for f in await store.list_flows(workspace_id)):
        found.append({"type": "flow", "name": flow_name})
    taken: set[str] = set()
    cursor: str | None = None
    while True:
        page = await store.list_webhooks(workspace_id, limit=_PAGE, cursor=cursor)
        taken.update(h.config.name for h in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    found += [{"type": "webhook", "name": n} for n in hook_names if n in taken]
    return found


async def _missing_event_types(
    deps: Deps, workspace_id: str, document: FlowImport, planned: list[_Planned]
) -> list[EventType]:
    """Catalog entries to create: named by the document, absent here (the document's
    definition if it has one, else just the name)."""
    have = {et.name for et in await deps.store.list_event_types(workspace_id)}
    definitions = {d.name: d for d in document.event_types}
    named = event_names(document.config, [p.config for p in planned])
    now = time.time()
    return [
        new_event_type(workspace_id, definitions.get(name) or EventTypeDraft(name), now)
        for name in sorted(named - have)
    ]


async def _create(
    deps: Deps, event_types: list[EventType], flow: Flow, hooks: list[Webhook]
) -> None:
    """Write everything, or (when a write fails) remove again the flow and webhooks written.

    Catalog entries stay: another import or a webhook may already rely on an event type this
    request created, and an extra catalog entry harms nothing.
    """
    store, ws = deps.store, flow.workspace_id
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
