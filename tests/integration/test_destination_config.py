"""Broker actions through the REST API: each kind is created and shown with its URL's password
masked, kept encrypted at rest, kept when an edit sends the mask back; bad settings are a 422
naming the field; a kind whose client library is missing is a 422 naming the extra."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hookline.domain.secretbox import SecretBox
from tests.conftest import Service, started
from tests.contract.test_store import execute_raw

PASSWORD = "s3cr3t-broker-pass"
MASKED = "%5Bredacted%5D"

KINDS: dict[str, dict[str, Any]] = {
    "rabbitmq": {
        "url": f"amqp://hook:{PASSWORD}@127.0.0.1:5672/%2F",
        "exchange": "events",
        "routing_key": "task.$type",
    },
    "nats": {"url": f"nats://hook:{PASSWORD}@127.0.0.1:4222", "subject": "hooks.$type"},
    "redis": {"url": f"redis://:{PASSWORD}@127.0.0.1:6379/0", "stream": "hooks", "maxlen": 1000},
    "mqtt": {"url": f"mqtt://hook:{PASSWORD}@127.0.0.1:1883", "topic": "hooks/$type", "qos": 2},
}


@pytest.fixture
async def keyed(database_url: str) -> AsyncIterator[Service]:
    async for svc in started(database_url, secret_key=SecretBox.generate_key()):
        yield svc


async def _create(service: Service, ws: str, key: str, kind: str, **extra: Any) -> Any:
    body = {"name": f"to {kind}", "kind": kind, kind: KINDS[kind], "events": ["*"], **extra}
    return await service.call("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=body)


@pytest.mark.parametrize("kind", list(KINDS))
async def test_each_kind_is_created_masked_sealed_and_kept_on_edit(
    keyed: Service, database_url: str, kind: str
) -> None:
    ws, key = await keyed.workspace()
    status, hook = await _create(keyed, ws, key, kind)
    assert status == 201, hook
    assert hook["kind"] == kind
    assert PASSWORD not in str(hook)
    assert MASKED in hook[kind]["url"]
    path = f"/v1/workspaces/{ws}/webhooks/{hook['id']}"
    assert PASSWORD not in str(await keyed.ok("GET", path, token=key))
    assert PASSWORD not in str(await keyed.ok("GET", f"/v1/workspaces/{ws}/webhooks", token=key))
    [config] = await execute_raw(
        database_url, f"SELECT config FROM webhooks WHERE id = '{hook['id']}'"
    )
    assert PASSWORD not in config and '"fernet:' in config
    # The masked URL sent back keeps the password; the answer is masked again.
    changed = dict(hook[kind]) | ({"qos": 1} if kind == "mqtt" else {})
    edited = await keyed.ok("PATCH", path, token=key, json={kind: changed})
    assert PASSWORD not in str(edited)
    revealed = await keyed.ok("GET", path + "?include_secret=true", token=key)
    assert revealed[kind]["url"] == KINDS[kind]["url"]
    # ... but not to another host: the password is asked for again.
    moved = dict(hook[kind]) | {"url": hook[kind]["url"].replace("127.0.0.1", "127.0.0.2")}
    status, body = await keyed.call("PATCH", path, token=key, json={kind: moved})
    assert (status, body["error"]["field"]) == (422, f"{kind}.url"), body


BAD_SETTINGS: list[tuple[str, dict[str, Any] | None, str]] = [
    ("rabbitmq", {"url": "http://127.0.0.1:5672", "exchange": "e"}, "rabbitmq.url"),
    ("rabbitmq", {"url": "amqp://127.0.0.1"}, "rabbitmq.exchange"),
    ("rabbitmq", {"url": "amqp://h", "exchange": "", "routing_key": "$"}, "rabbitmq.routing_key"),
    ("nats", {"url": "nats://127.0.0.1:4222"}, "nats.subject"),
    ("nats", {"url": "amqp://127.0.0.1", "subject": "a"}, "nats.url"),
    ("redis", {"url": "redis://127.0.0.1/zero", "stream": "s"}, "redis.url"),
    ("redis", {"url": "redis://127.0.0.1", "stream": "s", "maxlen": 0}, "redis.maxlen"),
    ("mqtt", {"url": "mqtt://127.0.0.1", "topic": "t", "qos": 0}, "mqtt.qos"),
    ("mqtt", {"url": "mqtt://127.0.0.1", "topic": "t", "qos": 3}, "mqtt.qos"),
    ("mqtt", None, "mqtt"),
]  # fmt: skip


async def test_bad_settings_are_a_422_naming_the_field(service: Service) -> None:
    ws, key = await service.workspace()
    for kind, settings, field in BAD_SETTINGS:
        body: dict[str, Any] = {"name": "bad", "kind": kind, "events": ["*"]}
        if settings is not None:
            body[kind] = settings
        status, answer = await service.call(
            "POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=body
        )
        assert (status, answer["error"]["field"]) == (422, field), (kind, settings, answer)


async def test_a_broker_on_a_refused_network_and_a_scheme_that_signs_the_url_are_refused(
    database_url: str,
) -> None:
    async for svc in started(database_url, allowed_networks=()):
        ws, key = await svc.workspace()
        status, answer = await _create(svc, ws, key, "redis")
        assert (status, answer["error"]["field"]) == (422, "redis.url"), answer
        assert "127.0.0.1" in answer["error"]["message"]
        body = {"signature_schemes": ["timestamped"], "secret": "generate"}
        status, answer = await _create(svc, ws, key, "nats", **body)
        assert (status, answer["error"]["field"]) == (422, "signature_schemes"), answer


async def test_a_missing_client_library_names_the_extra_to_install(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "aio_pika", None)  # importing it now raises ImportError
    ws, key = await service.workspace()
    status, answer = await _create(service, ws, key, "rabbitmq")
    assert status == 422, answer
    assert answer["error"]["field"] == "kind"
    assert answer["error"]["code"] == "extra_not_installed"
    assert "hookline[rabbitmq]" in answer["error"]["message"]


async def test_the_preview_shows_the_message_a_broker_action_would_publish(
    keyed: Service,
) -> None:
    ws, key = await keyed.workspace()
    status, hook = await _create(keyed, ws, key, "rabbitmq", secret="generate")
    assert status == 201, hook
    shown = await keyed.ok(
        "POST",
        f"/v1/workspaces/{ws}/webhooks/{hook['id']}/preview",
        token=key,
        json={"type": "job.failed", "payload": {"job": 7}},
    )
    assert shown["method"] == "PUBLISH"
    assert shown["url"] == (
        "amqp://hook@127.0.0.1:5672/%2F?exchange=events&routing_key=task.job.failed"
    )
    assert PASSWORD not in str(shown)
    assert shown["body"].replace(" ", "") == '{"job":7}'
    assert shown["headers"]["X-Hookline-Event-Type"] == "job.failed"
    assert shown["headers"]["webhook-signature"].startswith("v1,")


async def test_a_redis_action_cannot_have_a_header_named_body(service: Service) -> None:
    ws, key = await service.workspace()
    status, answer = await _create(service, ws, key, "redis", headers={"Body": "x"})
    assert (status, answer["error"]["field"]) == (422, "headers"), answer
    assert "'body'" in answer["error"]["message"]
