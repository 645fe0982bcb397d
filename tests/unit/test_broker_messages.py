"""A broker message is built from the same parts as the HTTP request: the body, the event
headers and every signature, verifiable by the Standard Webhooks library from what a consumer
receives; the target is the event's rendering of the template."""

from __future__ import annotations

import time

import pytest
from standardwebhooks import Webhook as StandardWebhook

from hookline.delivery.destinations.message import InvalidTarget, build_message
from hookline.delivery.request import build_request
from hookline.domain.models import Event, SecretEntry, Webhook, WebhookConfig

NOW = 1_800_000_000.0
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # 24 bytes, base64


def _hook(config: WebhookConfig) -> Webhook:
    return Webhook("wh_1", "ws_1", config, (SecretEntry(SECRET),), NOW, NOW)


EVENT = Event("evt_1", "ws_1", "task.done", '{"team": "ops", "id": 7}', None, NOW)


def test_the_message_carries_the_http_body_and_headers_and_verifies() -> None:
    config = WebhookConfig(
        name="q",
        kind="nats",
        nats={"url": "nats://b:4222", "subject": "hooks.$type.${team}"},
        headers={"X-Tenant": "acme"},
        signature_schemes=["standard", "github"],
    )
    now = time.time()  # the verifier refuses old timestamps
    message = build_message(_hook(config), EVENT, delivery_id="dlv_1", attempt=2, now=now)
    assert message.target == "hooks.task.done.ops"
    assert message.body == EVENT.body.encode()
    headers = dict(message.headers)
    assert headers["X-Hookline-Event-Id"] == "evt_1"
    assert headers["X-Hookline-Event-Type"] == "task.done"
    assert headers["X-Hookline-Delivery-Id"] == "dlv_1"
    assert headers["X-Hookline-Attempt"] == "2"
    assert headers["X-Tenant"] == "acme"
    assert headers["Content-Type"] == "application/json"
    assert "X-Hub-Signature-256" in headers
    verified = StandardWebhook(SECRET).verify(message.body, headers)  # raises when it does not
    assert verified == {"team": "ops", "id": 7}
    # The HTTP request of the same webhook signs the same bytes with the same headers.
    http = config.model_copy(update={"kind": "webhook", "url": "https://r.example/in"})
    request = build_request(_hook(http), EVENT, delivery_id="dlv_1", attempt=2, now=now)
    assert request.body == message.body
    assert {k: v for k, v in request.headers.items() if k != "Accept-Encoding"} == headers


def test_a_body_template_shapes_the_message_as_it_shapes_a_request() -> None:
    config = WebhookConfig(
        name="q",
        kind="redis",
        redis={"url": "redis://b/0", "stream": "hooks"},
        body_template='{"kind": "${event.type}", "team": "$team"}',
    )
    message = build_message(_hook(config), EVENT, delivery_id="d", attempt=1, now=NOW)
    assert message.body == b'{"kind": "task.done", "team": "ops"}'
    assert message.target == "hooks"


def test_a_target_that_renders_to_a_wildcard_or_nothing_is_refused() -> None:
    config = WebhookConfig(
        name="q", kind="mqtt", mqtt={"url": "mqtt://b", "topic": "hooks/${missing}"}
    )
    with pytest.raises(InvalidTarget, match=r"empty|wildcard"):
        build_message(
            _hook(config),
            Event("evt_2", "ws_1", "a", '{"missing": "#"}', None, NOW),
            delivery_id="d",
            attempt=1,
            now=NOW,
        )
    empty = config.model_copy(update={"mqtt": config.mqtt and config.mqtt.model_copy(
        update={"topic": "${nothing}"})})  # fmt: skip
    with pytest.raises(InvalidTarget, match="empty"):
        build_message(_hook(empty), EVENT, delivery_id="d", attempt=1, now=NOW)
