"""Traces (OpenTelemetry): the real service exports its publish and attempt spans over
OTLP/HTTP to a local receiver that decodes them, and the webhook receiver gets the trace
context; without the ``OTEL_*`` variables a process loads nothing of the SDK."""

from __future__ import annotations

import asyncio
import gzip
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from tests.conftest import Receiver, free_port, started
from tests.polling import eventually


def _require_sdk() -> None:
    try:
        import opentelemetry.proto.collector.trace.v1.trace_service_pb2
        import opentelemetry.sdk  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("the otel extra is not installed (pip install -e '.[otel]')")


class Collector:
    """An OTLP/HTTP trace receiver on 127.0.0.1: every exported span, decoded."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
            ExportTraceServiceResponse,
        )

        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        export = ExportTraceServiceRequest()
        export.ParseFromString(body)
        for resource_spans in export.resource_spans:
            service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}.get(
                "service.name"
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append((service, span))
        return web.Response(
            body=ExportTraceServiceResponse().SerializeToString(),
            content_type="application/x-protobuf",
        )

    def named(self, name: str) -> list[Any]:
        return [span for _, span in self.spans if span.name == name]


@pytest.fixture
async def collector() -> AsyncIterator[Collector]:
    _require_sdk()
    found = Collector()
    app = web.Application()
    app.router.add_post("/v1/traces", found.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    found.url = f"http://127.0.0.1:{port}"
    try:
        yield found
    finally:
        await runner.cleanup()


def _attributes(span: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for a in span.attributes:
        which = a.value.WhichOneof("value")
        values[a.key] = getattr(a.value, which) if which else None
    return values


TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


async def test_publish_and_attempt_spans_reach_the_collector_and_the_receiver(
    database_url: str,
    receiver: Receiver,
    collector: Collector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    async for service in started(database_url):
        ws, key = await service.workspace()
        hook = await service.ok(
            "POST",
            f"/v1/workspaces/{ws}/webhooks",
            token=key,
            json={"name": "traced", "url": receiver.url + "/in", "events": ["*"]},
        )
        headers = {
            "Authorization": f"Bearer {key}",
            "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01",
        }
        async with service.http.post(
            f"{service.url}/v1/workspaces/{ws}/events",
            json={"type": "order.paid", "payload": {"n": 1}},
            headers=headers,
        ) as r:
            assert r.status == 202
            published = await r.json()
        [request] = await receiver.wait_for(1)
        attempts = await eventually(
            lambda: asyncio.sleep(0.1, collector.named("hookline attempt")),
            lambda found: len(found) == 1,
            what="the attempt's span exported",
        )
    publish_spans = collector.named("hookline publish")
    [publish] = publish_spans
    [attempt] = attempts
    # The publish continues the publisher's trace.
    assert publish.trace_id.hex() == TRACE_ID
    assert publish.parent_span_id.hex() == PARENT_ID
    assert publish.kind == publish.SPAN_KIND_PRODUCER
    assert _attributes(publish) == {
        "hookline.workspace_id": ws,
        "hookline.event_type": "order.paid",
        "hookline.event_id": published["id"],
    }
    assert {service for service, _ in collector.spans} == {"hookline"}
    # The attempt is the publish's child and linked to it.
    assert attempt.trace_id == publish.trace_id
    assert attempt.parent_span_id == publish.span_id
    [link] = attempt.links
    assert (link.trace_id, link.span_id) == (publish.trace_id, publish.span_id)
    assert attempt.kind == attempt.SPAN_KIND_CLIENT
    seen = _attributes(attempt)
    assert seen["hookline.webhook_id"] == hook["id"]
    assert seen["hookline.event_type"] == "order.paid"
    assert seen["hookline.event_id"] == published["id"]
    assert seen["hookline.delivery_id"] == published["deliveries"][0]["id"]
    assert seen["hookline.attempt"] == 1
    assert seen["http.response.status_code"] == 200
    assert "hookline.error_class" not in seen
    assert attempt.end_time_unix_nano > attempt.start_time_unix_nano
    # The receiver can continue the trace: the request names the attempt's span.
    version, trace_id, span_id, flags = request.headers["traceparent"].split("-")
    assert (version, trace_id, span_id, flags) == ("00", TRACE_ID, attempt.span_id.hex(), "01")


async def test_a_failed_attempt_names_its_error_class(
    database_url: str, collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
    closed = f"http://127.0.0.1:{free_port()}/in"  # nothing listens: connection refused
    async for service in started(database_url):
        ws, key = await service.workspace()
        await service.ok(
            "POST",
            f"/v1/workspaces/{ws}/webhooks",
            token=key,
            json={"name": "down", "url": closed, "events": ["*"], "max_attempts": 1},
        )
        await service.ok(
            "POST", f"/v1/workspaces/{ws}/events", token=key, json={"type": "a", "payload": {}}
        )
        [attempt] = await eventually(
            lambda: asyncio.sleep(0.1, collector.named("hookline attempt")),
            lambda found: len(found) == 1,
            what="the failed attempt's span exported",
        )
    [publish] = collector.named("hookline publish")
    assert publish.parent_span_id == b""  # no incoming trace context: a trace of its own
    assert attempt.trace_id == publish.trace_id
    seen = _attributes(attempt)
    assert seen["hookline.error_class"]
    assert "http.response.status_code" not in seen
    assert attempt.status.code == attempt.status.STATUS_CODE_ERROR


async def test_a_batch_has_one_publish_span_parent_of_every_attempt(
    database_url: str,
    receiver: Receiver,
    collector: Collector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
    async for service in started(database_url):
        ws, key = await service.workspace()
        await service.ok(
            "POST",
            f"/v1/workspaces/{ws}/webhooks",
            token=key,
            json={"name": "traced", "url": receiver.url + "/in", "events": ["*"]},
        )
        headers = {"Authorization": f"Bearer {key}", "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}
        events = [{"type": "a", "payload": {"n": n}} for n in range(3)]
        async with service.http.post(
            f"{service.url}/v1/workspaces/{ws}/events/batch",
            json={"events": events},
            headers=headers,
        ) as r:
            assert r.status == 202
        requests = await receiver.wait_for(3)
        attempts = await eventually(
            lambda: asyncio.sleep(0.1, collector.named("hookline attempt")),
            lambda found: len(found) == 3,
            what="the attempts' spans exported",
        )
    [publish] = collector.named("hookline publish")
    assert publish.trace_id.hex() == TRACE_ID
    assert _attributes(publish)["hookline.event_count"] == 3
    assert {a.parent_span_id for a in attempts} == {publish.span_id}
    assert {r.headers["traceparent"].split("-")[2] for r in requests} == {
        a.span_id.hex() for a in attempts
    }


_ROLE = textwrap.dedent(
    """
    import asyncio, sys
    from hookline.runtime.process import Roles, run
    from hookline.settings import Settings

    async def main() -> None:
        stop = asyncio.Event()
        settings = Settings(database_url=sys.argv[1], admin_token="t")
        roles = Roles(api=sys.argv[2] == "serve", worker=True, port=int(sys.argv[3]))
        task = asyncio.create_task(run(settings, roles, stop=stop, announce=lambda _: None))
        await asyncio.sleep(1.5)
        stop.set()
        await task

    asyncio.run(main())
    print(" ".join(sorted(m for m in sys.modules if m.startswith("opentelemetry"))))
    """
)


@pytest.mark.parametrize("role", ["worker", "serve"])
def test_without_otel_variables_nothing_of_the_sdk_is_loaded(tmp_path: Any, role: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "HOOKLINE_"))}
    database_url = f"sqlite:///{tmp_path / 'hookline.db'}"
    done = subprocess.run(
        [sys.executable, "-c", _ROLE, database_url, role, str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = done.stdout.split()
    if role == "worker":
        assert loaded == []  # not even the API
    else:
        # FastAPI itself imports the OpenTelemetry API; Hookline adds nothing to it.
        assert not [m for m in loaded if m.startswith(("opentelemetry.sdk", "opentelemetry.exp"))]
