"""Importing a flow document (``hookline.services.flows.export_flow`` writes them): the flow,
its trigger and its webhooks are recreated in a workspace, with the event types the document
names and the catalog lacks.

An import is validated whole before anything is written, each webhook with the checks a new
webhook passes (``webhook_checks``: its configuration, its signing secret, its URL against the
address policy), and every problem of the document is reported at once (a 422 lists them all).
Then names: a name that exists (the flow's or any webhook's) raises ``NamesTaken`` listing
every conflict, and changes nothing. Should a write still fail (a concurrent request took a
name), what the import created is removed again. A signed webhook exported without its secret
gets a new one (shown once in the result), and credential headers exported masked are left
out and listed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import field
from typing import Any

from hookline.domain.ids import new_id
from hookline.domain.models import EventType, Flow, FlowConfig, Webhook
from hookline.domain.records import record
from hookline.errors import ApiError, Conflict, ValidationFailed, raise_every
from hookline.services.catalog_entries import EventTypeDraft, check_draft, new_event_type
from hookline.services.deps import Deps
from hookline.services.flow_plans import PlannedWebhook, planned_webhooks
from hookline.services.flows import event_names

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
    passwords_left_out: list[tuple[str, str]] = field(default_factory=list)
    """(webhook name, field): broker URLs imported without the password the document masked."""


class NamesTaken(Conflict):
    """The flow's or webhooks' names exist already; ``conflicts`` lists each (type, name)."""

    def __init__(self, conflicts: list[dict[str, str]]) -> None:
        names = ", ".join(f"{c['type']} {c['name']!r}" for c in conflicts)
        super().__init__(
            f"nothing was imported: {names} already exist(s); import under another name"
        )
        self.conflicts = conflicts


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
        [(p.config.name, p.password_left_out) for p in planned if p.password_left_out],
    )


async def _validated(deps: Deps, workspace_id: str, document: FlowImport) -> list[PlannedWebhook]:
    """The document's webhooks as they would be created, once everything is checked."""
    ready, problems = planned_webhooks(deps, document.webhooks)
    problems += _schema_problems(document.event_types)
    raise_every(problems)
    conflicts = await _conflicts(deps, workspace_id, document.name, [p.config.name for p in ready])
    if conflicts:
        raise NamesTaken(conflicts)
    return ready


def _webhook(workspace_id: str, flow_id: str, planned: PlannedWebhook, now: float) -> Webhook:
    config = planned.config.model_copy(update={"flow": flow_id})
    return Webhook(new_id("wh"), workspace_id, config, planned.secrets, now, now)


def _schema_problems(event_types: Sequence[EventTypeDraft]) -> list[ApiError]:
    """The catalog definitions whose schema is not valid, or whose example does not match."""
    problems: list[ApiError] = []
    for i, et in enumerate(event_types):
        try:
            check_draft(et)
        except ValidationFailed as exc:
            problems.append(ValidationFailed(f"event_types.{i}: {exc}", field=f"event_types.{i}"))
    return problems


async def _conflicts(
    deps: Deps, workspace_id: str, flow_name: str, hook_names: list[str]
) -> list[dict[str, str]]:
    store = deps.store
    found = []
    if any(f.name == flow_name for f in await store.config.list_flows(workspace_id)):
        found.append({"type": "flow", "name": flow_name})
    taken: set[str] = set()
    cursor: str | None = None
    while True:
        page = await store.config.list_webhooks(workspace_id, limit=_PAGE, cursor=cursor)
        taken.update(h.config.name for h in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    found += [{"type": "webhook", "name": n} for n in hook_names if n in taken]
    return found


async def _missing_event_types(
    deps: Deps, workspace_id: str, document: FlowImport, planned: list[PlannedWebhook]
) -> list[EventType]:
    """Catalog entries to create: named by the document, absent here (the document's
    definition if it has one, else just the name)."""
    have = {et.name for et in await deps.store.catalog.workspace_event_types(workspace_id)}
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
                await store.catalog.save_event_type(et, create=True)
            except Conflict:  # created a moment ago by another request: just as good
                continue
        await store.config.save_flow(flow, create=True)
        done.append(("flow", flow.id))
        for hook in hooks:
            await store.config.save_webhook(hook, create=True)
            done.append(("webhook", hook.id))
    except Exception:
        for kind, key in reversed(done):
            if kind == "webhook":
                await store.config.delete_webhook(ws, key)
            else:
                await store.config.delete_flow(ws, key)
        raise
