"""The W3C trace context on what an attempt sends: Hookline's own header, outside signatures,
and no OpenTelemetry without the ``OTEL_*`` variables (pure functions)."""

from __future__ import annotations

import pytest

from hookline.delivery.destinations.message import build_message
from hookline.delivery.request import build_request
from hookline.domain.models import Event, SecretEntry, Webhook, WebhookConfig
from hookline.domain.signing import generate_secret
from hookline.runtime import tracing

NOW = 1_800_000_000.0
TRACE = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}


def _hook(**config: object) -> Webhook:
    cfg = WebhookConfig.model_validate(
        {"name": "hook", "url": "https://example.com/in", **config}, context={"stored": True}
    )
    return Webhook("wh_1", "ws_1", cfg, (SecretEntry(generate_secret()),), NOW, NOW)


def test_the_trace_context_is_added_and_leaves_the_signature_alone() -> None:
    hook = _hook()
    event = Event("evt_1", "ws_1", "a", '{"n": 1}', None, NOW)
    plain = build_request(hook, event, delivery_id="d", attempt=1, now=NOW)
    traced = build_request(hook, event, delivery_id="d", attempt=1, now=NOW, extra=TRACE)
    assert "traceparent" not in plain.headers
    assert traced.headers == {**plain.headers, **TRACE}
    assert traced.body == plain.body


def test_a_custom_header_cannot_replace_the_trace_context() -> None:
    hook = _hook(headers={"TraceParent": "00-forged"})
    event = Event("evt_1", "ws_1", "a", "{}", None, NOW)
    traced = build_request(hook, event, delivery_id="d", attempt=1, now=NOW, extra=TRACE)
    assert "00-forged" not in traced.headers.values()
    assert traced.headers["traceparent"] == TRACE["traceparent"]


def test_a_broker_message_carries_the_trace_context_as_a_header() -> None:
    config = WebhookConfig(name="q", kind="nats", nats={"url": "nats://b:4222", "subject": "hooks"})
    hook = Webhook("wh_1", "ws_1", config, (SecretEntry(generate_secret()),), NOW, NOW)
    event = Event("evt_1", "ws_1", "a", "{}", None, NOW)
    plain = build_message(hook, event, delivery_id="d", attempt=1, now=NOW)
    traced = build_message(hook, event, delivery_id="d", attempt=1, now=NOW, extra=TRACE)
    assert dict(traced.headers) == {**plain.headers, **TRACE}
    assert traced.body == plain.body


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, False),
    ],
)
def test_traces_are_on_only_when_the_environment_asks(environ: dict[str, str], on: bool) -> None:
    assert tracing.configured(environ) is on


def test_unconfigured_start_loads_nothing() -> None:
    assert tracing.start({}) is None
    assert tracing.active is None
