"""Building one attempt's request, and what the attempt log keeps of it (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from hookline.delivery.attempt import describe_attempt
from hookline.delivery.request import build_request, redact_headers, sends_event_body
from hookline.delivery.sender import SendResult
from hookline.domain.models import (
    Claimed,
    Delivery,
    DeliveryStatus,
    Event,
    SecretEntry,
    Webhook,
    WebhookConfig,
)
from hookline.domain.signing import SCHEMES, generate_secret, generate_secret_for

NOW = 1_800_000_000.0
BODY = '{"id": 7, "note": "caf\\u00e9"}'


def _webhook(**config: Any) -> Webhook:
    cfg = WebhookConfig(name="hook", url="https://example.com/in", **config)
    secrets = (SecretEntry(generate_secret_for(cfg.signature_schemes)),)
    return Webhook("wh_1", "ws_1", cfg, secrets, NOW, NOW)


def _claimed(webhook: Webhook, batch: tuple[Event, ...] = ()) -> Claimed:
    event = Event("evt_1", "ws_1", "task.completed", BODY, None, NOW)
    delivery = Delivery(
        "dlv_1", "ws_1", "evt_1", webhook.id, DeliveryStatus.PENDING, 0, 0, NOW, None, None,
        NOW, NOW,
    )  # fmt: skip
    return Claimed(delivery, event, webhook, batch)


def _logged(claimed: Claimed) -> Any:
    request = build_request(claimed.webhook, claimed.event, delivery_id="dlv_1", attempt=1, now=NOW)
    answer = SendResult(200, {"Server": "test"}, "ok", 1.0, None, None)
    return request, describe_attempt(claimed, 1, NOW, request, answer)


def test_defaults_come_first_and_custom_headers_replace_them_whatever_their_case() -> None:
    plain = build_request(
        _webhook(), _claimed(_webhook()).event, delivery_id="d", attempt=1, now=NOW
    )
    assert plain.headers["Content-Type"] == "application/json"
    assert plain.headers["Accept-Encoding"] == "identity"
    custom = _webhook(headers={"accept-encoding": "gzip", "X-Team": "ops"})
    request = build_request(custom, _claimed(custom).event, delivery_id="d", attempt=1, now=NOW)
    encodings = [v for k, v in request.headers.items() if k.lower() == "accept-encoding"]
    assert encodings == ["gzip"]
    assert request.headers["X-Team"] == "ops"


def test_custom_headers_never_override_hookline_s_own() -> None:
    # Refused since, but a configuration stored by an earlier version may still hold them.
    cfg = WebhookConfig.model_validate(
        {
            "name": "hook",
            "url": "https://example.com/in",
            "headers": {"x-hookline-event-id": "forged", "Webhook-Signature": "forged"},
        },
        context={"stored": True},
    )
    hook = Webhook("wh_1", "ws_1", cfg, (SecretEntry(generate_secret()),), NOW, NOW)
    request = build_request(hook, _claimed(hook).event, delivery_id="d", attempt=1, now=NOW)
    assert "forged" not in request.headers.values()
    assert request.headers["X-Hookline-Event-Id"] == "evt_1"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_hookline_s_own_headers_are_never_taken_for_credentials(scheme: str) -> None:
    # The attempt log skips redaction when a webhook has no custom headers: that is only
    # sound while none of the headers Hookline itself sends looks like a credential.
    hook = _webhook(signature_schemes=[scheme])
    request = build_request(hook, _claimed(hook).event, delivery_id="d", attempt=1, now=NOW)
    assert redact_headers(request.headers) == dict(request.headers)


def test_the_attempt_log_redacts_custom_credentials() -> None:
    hook = _webhook(headers={"Authorization": "Bearer s3cret", "X-Team": "ops"})
    request, attempt = _logged(_claimed(hook))
    assert request.headers["Authorization"] == "Bearer s3cret"  # sent as configured
    assert attempt.request_headers["Authorization"] == "[redacted]"
    assert attempt.request_headers["X-Team"] == "ops"


def test_the_attempt_log_redacts_headers_marked_secret() -> None:
    hook = _webhook(headers={"X-Tenant": "t-8d41", "X-Team": "ops"}, secret_headers=["x-tenant"])
    request, attempt = _logged(_claimed(hook))
    assert request.headers["X-Tenant"] == "t-8d41"  # sent as configured
    assert attempt.request_headers["X-Tenant"] == "[redacted]"
    assert attempt.request_headers["X-Team"] == "ops"


def test_an_unchanged_event_body_is_logged_by_reference() -> None:
    _, attempt = _logged(_claimed(_webhook()))
    assert attempt.request_body_is_event
    assert attempt.request_body == BODY


@pytest.mark.parametrize(
    "config",
    [
        {"body_template": '{"text": "task ${id}"}'},
        {"content_type": "application/x-www-form-urlencoded"},
        {"method": "GET"},
    ],
)
def test_a_reshaped_or_absent_body_is_logged_as_sent(config: dict[str, Any]) -> None:
    hook = _webhook(**config)
    assert not sends_event_body(hook)
    request, attempt = _logged(_claimed(hook))
    assert not attempt.request_body_is_event
    sent = None if request.body is None else request.body.decode()
    assert attempt.request_body == sent


def test_an_email_action_never_refers_to_the_event_body() -> None:
    action = {"to": ["ops@example.com"], "subject": "s"}
    cfg = WebhookConfig(name="mail", kind="email", email=action)
    assert not sends_event_body(Webhook("wh_2", "ws_1", cfg, (), NOW, NOW))


def test_an_aggregation_window_is_logged_as_sent() -> None:
    hook = _webhook()
    claimed = _claimed(hook, batch=(_claimed(hook).event,))
    _, attempt = _logged(claimed)
    assert not attempt.request_body_is_event


def test_recorded_response_headers_keep_the_first_value_of_each_name_whatever_its_case() -> None:
    from multidict import CIMultiDict, CIMultiDictProxy

    from hookline.delivery.sender import _first_values

    answered = CIMultiDict([("Set-Cookie", "a"), ("X-One", "1"), ("set-cookie", "b")])
    assert _first_values(CIMultiDictProxy(answered)) == {"Set-Cookie": "a", "X-One": "1"}
