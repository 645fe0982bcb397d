"""``services.portal_endpoints`` on a real SQLite store: every action refuses a read-only link by
itself (whatever front door calls it), only the workspace's own HTTP endpoints outside flows are
the customer's, and what a customer does not set is kept."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hookline.delivery.sender import Sender
from hookline.domain import portal_themes
from hookline.domain.address_policy import AddressPolicy
from hookline.domain.models import (
    EventType,
    Flow,
    FlowConfig,
    PortalLink,
    WebhookConfig,
    Workspace,
)
from hookline.domain.portal_access import Customer, ReadOnlyLink
from hookline.errors import NotFound, ValidationFailed
from hookline.services import portal_endpoints, webhooks
from hookline.services.deps import Deps
from hookline.services.portal_endpoints import EndpointDraft
from hookline.services.routing import Router
from hookline.settings import Settings
from hookline.store import open_store
from hookline.store.group_commit import GroupCommit
from hookline.store.migrate import upgrade

WS = "ws_portal"
OTHER = "ws_other"
URL = "https://example.com/hooks"


@pytest.fixture
async def deps(tmp_path: Path) -> AsyncIterator[Deps]:
    url = f"sqlite:///{tmp_path}/hookline.db"
    await asyncio.to_thread(upgrade, url)
    settings = Settings(database_url=url, allowed_networks=("127.0.0.0/8",))
    store = await open_store(settings)
    try:
        async with Sender(AddressPolicy(settings.allowed_networks)) as sender:
            for ws in (WS, OTHER):
                await store.config.create_workspace(Workspace(ws, ws, 0.0))
            paid = EventType("et_1", WS, "invoice.paid", "Paid.", None, {"id": 1}, 0.0, 0.0)
            await store.catalog.save_event_type(paid, create=True)
            yield Deps(settings, store, Router(store), sender, GroupCommit(store))
    finally:
        await store.close()


def customer(
    ws: str = WS, *, read_only: bool = False, event_types: tuple[str, ...] | None = None
) -> Customer:
    now = time.time()
    link = PortalLink("pl_1", ws, "hash", now, now + 3600, "admin", read_only, event_types, None)
    return Customer(link, portal_themes.effective())


async def test_every_action_refuses_a_read_only_link(deps: Deps) -> None:
    hook = await webhooks.create(deps, WS, WebhookConfig(name="orders", url=URL), "generate")
    looker = customer(read_only=True)
    draft = EndpointDraft(name="changed", url=URL)
    actions: list[Callable[[], Awaitable[Any]]] = [
        lambda: portal_endpoints.create(deps, looker, draft),
        lambda: portal_endpoints.update(deps, looker, hook.id, draft),
        lambda: portal_endpoints.set_enabled(deps, looker, hook.id, False),
        lambda: portal_endpoints.delete(deps, looker, hook.id),
        lambda: portal_endpoints.reveal_secret(deps, looker, hook.id),
        lambda: portal_endpoints.rotate_secret(deps, looker, hook.id),
        lambda: portal_endpoints.send_test(deps, looker, hook.id),
    ]
    for action in actions:
        with pytest.raises(ReadOnlyLink):
            await action()
    assert await deps.store.config.get_webhook(WS, hook.id) == hook
    assert await deps.store.portal.audit_page(WS, 10, None) == []
    # Looking is allowed.
    assert [h.id for h in await portal_endpoints.endpoints(deps, looker)] == [hook.id]
    assert (await portal_endpoints.endpoint(deps, looker, hook.id)).id == hook.id


async def test_only_the_workspaces_http_endpoints_outside_flows(deps: Deps) -> None:
    own = await webhooks.create(deps, WS, WebhookConfig(name="own", url=URL), None)
    theirs = await webhooks.create(deps, OTHER, WebhookConfig(name="theirs", url=URL), None)
    flow = Flow("fl_1", WS, "ops", "", 0.0, 0.0, FlowConfig())
    await deps.store.config.save_flow(flow, create=True)
    member = await webhooks.create(deps, WS, WebhookConfig(name="m", url=URL, flow="fl_1"), None)
    email = {"to": ["ops@example.com"], "subject": "s"}
    mail = await webhooks.create(
        deps, WS, WebhookConfig(name="mail", kind="email", email=email), None
    )
    you = customer()
    assert [h.id for h in await portal_endpoints.endpoints(deps, you)] == [own.id]
    for other in (theirs.id, member.id, mail.id):
        with pytest.raises(NotFound):
            await portal_endpoints.endpoint(deps, you, other)
        with pytest.raises(NotFound):
            await portal_endpoints.set_enabled(deps, you, other, False)
        with pytest.raises(NotFound):
            await portal_endpoints.delete(deps, you, other)
    for kept in (theirs, member, mail):
        assert await deps.store.config.get_webhook(kept.workspace_id, kept.id) == kept


async def test_what_a_customer_does_not_set_is_kept(deps: Deps) -> None:
    config = WebhookConfig(
        name="orders",
        url=URL,
        events=["*"],
        headers={"X-Api-Key": "k-1"},
        retry_schedule=[1, 2],
        max_attempts=3,
        body_template='{"t": "$type"}',
        metadata={"team": "billing"},
    )
    hook = await webhooks.create(deps, WS, config, "generate")
    limited = customer(event_types=("invoice.*",))
    # "*" was the operator's: it may stay, though the link could not subscribe to it.
    draft = EndpointDraft(
        name="orders v2",
        url=URL + "/v2",
        events=("*", "invoice.paid"),
        headers={"X-Api-Key": "[redacted]", "X-Team": "b"},
        enabled=False,
    )
    saved = await portal_endpoints.update(deps, limited, hook.id, draft)
    assert saved.config.name == "orders v2" and saved.config.url == URL + "/v2"
    assert saved.config.headers == {"X-Api-Key": "k-1", "X-Team": "b"}
    assert saved.config.enabled is False
    assert saved.config.retry_schedule == [1, 2] and saved.config.max_attempts == 3
    assert saved.config.body_template == '{"t": "$type"}'
    assert saved.config.metadata == {"team": "billing"}
    assert saved.secrets == hook.secrets
    assert portal_endpoints.status_of(saved) == "disabled"

    with pytest.raises(ValidationFailed) as refused:
        await portal_endpoints.create(deps, limited, EndpointDraft(name="n", url=URL))
    assert refused.value.field == "events"

    created = await portal_endpoints.create(
        deps, limited, EndpointDraft(name="new", url=URL, events=("invoice.*",))
    )
    assert created.config.signature_schemes == ["standard"] and created.secrets
    entries = await deps.store.portal.audit_page(WS, 10, None)
    assert [(e.action, e.actor) for e in entries] == [
        ("endpoint.created", "portal customer"),
        ("endpoint.updated", "portal customer"),
    ]
    assert entries[1].detail == {"changed": ["name", "url", "events", "headers", "enabled"]}
