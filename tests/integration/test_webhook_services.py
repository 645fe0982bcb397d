"""The webhook and delivery services on a real SQLite store, as every front door calls them:
saving with every problem found at once, sending a test, previewing, retrying and replaying."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hookline.delivery.sender import Sender
from hookline.domain.address_policy import AddressPolicy
from hookline.domain.models import (
    DeliveryStatus,
    EventType,
    Flow,
    FlowConfig,
    WebhookConfig,
    Workspace,
)
from hookline.errors import ApiError, NotFound, ValidationFailed
from hookline.services import deliveries, webhook_tests, webhooks
from hookline.services.deps import Deps
from hookline.services.routing import Router
from hookline.settings import Settings
from hookline.store import open_store
from hookline.store.group_commit import GroupCommit
from hookline.store.migrate import upgrade
from tests.conftest import Receiver

WS = "ws_services"
EXAMPLE = {"orderId": "o-1", "amount": 12.5}


@pytest.fixture
async def deps(tmp_path: Path) -> AsyncIterator[Deps]:
    url = f"sqlite:///{tmp_path}/hookline.db"
    await asyncio.to_thread(upgrade, url)
    settings = Settings(database_url=url, allowed_networks=("127.0.0.0/8",))
    store = await open_store(settings)
    try:
        async with Sender(AddressPolicy(settings.allowed_networks)) as sender:
            await store.config.create_workspace(Workspace(WS, "services", 0.0))
            order = EventType("et_1", WS, "order.paid", "", None, EXAMPLE, 0.0, 0.0)
            await store.catalog.save_event_type(order, create=True)
            yield Deps(settings, store, Router(store), sender, GroupCommit(store))
    finally:
        await store.close()


def _config(url: str, **fields: Any) -> WebhookConfig:
    return WebhookConfig.model_validate(
        {"name": "orders", "url": url, "events": ["order.paid"]} | fields
    )


def _fields(problems: list[ApiError]) -> list[str | None]:
    return [p.field for p in problems]


async def test_a_draft_reports_every_problem_at_once(deps: Deps) -> None:
    data = {
        "name": "",
        "url": "http://10.1.2.3/hooks",
        "events": ["order.paid", "no.such"],
        "flow": "flow_missing",
        "timeout_seconds": 90,
    }
    problems = await webhooks.draft_problems(deps, WS, data)
    assert _fields(problems) == ["name", "timeout_seconds", "events", "flow", "url"]
    assert problems[0].message == "name: must not be empty"
    assert "'no.such'" in problems[2].message and "10.1.2.3" in problems[4].message
    # A valid configuration with an unusable secret, or schemes and no secret.
    good = {"name": "n", "url": "http://127.0.0.1/x", "signature_schemes": ["standard"]}
    assert _fields(await webhooks.draft_problems(deps, WS, good, secret="nope")) == ["secret"]
    assert _fields(await webhooks.draft_problems(deps, WS, good)) == ["secret"]
    assert await webhooks.draft_problems(deps, WS, good, secret=webhooks.GENERATE) == []
    # A save reports every problem.
    with pytest.raises(ValidationFailed) as raised:
        await webhooks.create(deps, WS, _config("http://10.1.2.3/hooks", flow="nope"), None)
    assert raised.value.field == "flow"
    assert [p.field for p in raised.value.problems] == ["flow", "url"]


async def test_create_change_rotate_and_delete(deps: Deps, receiver: Receiver) -> None:
    hook = await webhooks.create(deps, WS, _config(receiver.url), webhooks.GENERATE)
    assert hook.config.signature_schemes == ["standard"] and len(hook.secrets) == 1
    changed = await webhooks.update(deps, WS, hook.id, {"max_attempts": 2})
    assert changed.config.max_attempts == 2 and changed.secrets == hook.secrets
    with pytest.raises(ValidationFailed) as raised:
        await webhooks.update(deps, WS, hook.id, {"timeout_seconds": 31})
    assert raised.value.message == "timeout_seconds: must be less than or equal to 30"
    off = await webhooks.set_enabled(deps, WS, hook.id, False)
    assert (off.config.enabled, off.disabled_reason) == (False, "disabled by a user")
    on = await webhooks.set_enabled(deps, WS, hook.id, True)
    assert (on.config.enabled, on.disabled_reason) == (True, None)
    secret = await webhooks.rotate_secret(deps, WS, hook.id, grace_seconds=60)
    rotated = await webhooks.load(deps, WS, hook.id)
    assert [s.secret for s in rotated.secrets] == [secret, hook.secrets[0].secret]
    await webhooks.delete(deps, WS, hook.id)
    with pytest.raises(NotFound):
        await webhooks.load(deps, WS, hook.id)
    with pytest.raises(NotFound):
        await webhooks.delete(deps, WS, hook.id)


async def test_a_test_sends_the_sample_and_records_it_as_the_worker_would(
    deps: Deps, receiver: Receiver
) -> None:
    hook = await webhooks.create(deps, WS, _config(receiver.url + "/in"), None)
    result = await webhook_tests.send_test(deps, WS, hook.id)
    assert result.success and result.event.type == "order.paid"
    [arrived] = receiver.requests
    assert json.loads(arrived.body) == EXAMPLE  # the catalog's example
    found = await deliveries.get_with_attempts(deps, WS, result.delivery.id)
    assert found.delivery.status is DeliveryStatus.SUCCEEDED
    assert [a.response_status for a in found.attempts] == [200]

    receiver.status = 500
    failed = await webhook_tests.send_test(deps, WS, hook.id, payload={"x": 1})
    assert not failed.success and failed.attempt.response_status == 500
    again = await deliveries.get(deps, WS, failed.delivery.id)
    assert again.status is DeliveryStatus.FAILED  # no retry follows a test

    retried = await deliveries.retry(deps, WS, failed.delivery.id)
    assert retried.status is DeliveryStatus.PENDING
    queued = await deliveries.replay(deps, WS, hook.id, since=0.0)
    assert queued == 0  # the retried one is pending, not failed any more


async def test_a_webhook_without_a_catalog_type_is_tested_with_the_fallback_sample(
    deps: Deps, receiver: Receiver
) -> None:
    hook = await webhooks.create(deps, WS, _config(receiver.url, events=["job.*"]), None)
    result = await webhook_tests.send_test(deps, WS, hook.id)
    assert result.event.type == "hookline.test"
    assert json.loads(receiver.requests[0].body)["message"] == "Test event from Hookline"
    # The REST preview shows only what a real event would produce: it refuses to make one up.
    with pytest.raises(ValidationFailed) as raised:
        await webhook_tests.preview(deps, WS, hook.id)
    assert raised.value.field == "type"


async def test_a_draft_in_an_aggregating_flow_previews_as_a_window(deps: Deps) -> None:
    flow = Flow("flow_1", WS, "f", "", 0.0, 0.0, FlowConfig(aggregation_seconds=60))
    await deps.store.config.save_flow(flow, create=True)
    config = _config("http://127.0.0.1:9/x", flow="flow_1", enabled=False)
    shown = await webhook_tests.preview_draft(deps, WS, config, webhook_id=None, secret="")
    assert shown.aggregated and shown.request.headers["X-Hookline-Event-Type"] == "hookline.batch"
    assert shown.not_sent_because is not None and "held" in shown.not_sent_because
    assert shown.body is not None and json.loads(shown.body)["events"][0]["payload"] == EXAMPLE
