"""Traces (OpenTelemetry): a span for each publish and each delivery attempt, exported over
OTLP, and the W3C trace context on every outgoing request (``docs/operations.md``, "Traces").

Tracing is on when the process starts with ``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_TRACES_EXPORTER`` (``otlp`` or ``console``;
``none`` turns it off) in its environment. :func:`start` then loads the OpenTelemetry SDK (the
``hookline[otel]`` extra) and sets :data:`active`; the exporter reads the other standard
``OTEL_*`` variables itself (headers, timeout, compression, the batch processor's delays), and
``service.name`` is ``hookline`` unless ``OTEL_SERVICE_NAME`` or ``OTEL_RESOURCE_ATTRIBUTES``
name another. Hookline's spans come from a provider of its own: no global provider is
installed, so libraries that trace through the global one stay silent.

Without those variables nothing of OpenTelemetry is imported by this module, :data:`active`
stays None, and the publish and delivery paths cost one ``is None`` test each.

Spans:

- ``hookline publish`` (kind ``PRODUCER``): one per REST or Svix-compatible publish (one per
  batch request). Its parent is the request's ``traceparent`` (and ``tracestate``) when it has
  one, so the publisher's trace continues; its own ``traceparent`` is stored with the event.
- ``hookline attempt`` (kind ``CLIENT`` for HTTP, ``PRODUCER`` for brokers and email): one per
  delivery attempt, in whichever worker process makes it. It is a child of the publish's span
  and also carries a link to it (a backend that shows links but draws a retry far from its
  publish still finds the way). The request it sends carries the attempt span's
  ``traceparent``, so the receiver's own spans continue the same trace.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from hookline.domain.models import AttemptOutcome, Claimed
from hookline.domain.retry import Decision

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span

#: One attempt, given the trace headers to add to what it sends.
Send = Callable[[dict[str, str]], Awaitable[tuple[AttemptOutcome, Decision]]]
#: The process's tracing, once :func:`start` found it configured; None otherwise.
active: Tracing | None = None

_ON = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_SERVICE_NAME = "hookline"


def configured(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for traces (see the module's text)."""
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(exporter) or any(environ.get(name) for name in _ON)


def start(environ: Mapping[str, str] = os.environ) -> Tracing | None:
    """Set up tracing if the environment asks for it (:data:`active`); None if it does not."""
    global active
    if not configured(environ):
        return None
    try:
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        from hookline.errors import ConfigError

        raise ConfigError(
            f"OTEL_* variables ask for traces, which need `pip install 'hookline[otel]'` ({exc})"
        ) from None

    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: _SERVICE_NAME}))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(_exporter(environ)))
    active = Tracing(provider)
    return active


def stop() -> None:
    """Export what is still buffered and stop (the process is ending)."""
    global active
    if active is not None:
        active.shutdown()
        active = None


def _exporter(environ: Mapping[str, str]) -> SpanExporter:
    exporter = environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
    if exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if exporter != "otlp":
        from hookline.errors import ConfigError

        raise ConfigError(f"OTEL_TRACES_EXPORTER: {exporter!r} is not one of otlp, console, none")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout: from the OTEL_* variables


class PublishSpan:
    """The span of one publish: its ``traceparent`` goes with the event it stores."""

    def __init__(self, span: Span, traceparent: str | None) -> None:
        self.span = span
        self.traceparent = traceparent

    def published(self, event_ids: list[str]) -> None:
        if len(event_ids) == 1:
            self.span.set_attribute("hookline.event_id", event_ids[0])
        else:
            self.span.set_attribute("hookline.event_count", len(event_ids))


class Tracing:
    """Hookline's tracer, and the W3C trace context read from and written to headers."""

    def __init__(self, provider: TracerProvider) -> None:
        from opentelemetry import trace
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self._provider = provider
        self._trace = trace
        self._tracer = provider.get_tracer("hookline")
        self._context = TraceContextTextMapPropagator()

    def shutdown(self) -> None:
        self._provider.shutdown()  # flushes the batch processor

    @contextmanager
    def publish(
        self, workspace_id: str, event_type: str | None, incoming: Mapping[str, str] | None
    ) -> Iterator[PublishSpan]:
        """The span of a publish, a child of the trace context in ``incoming`` (a request's
        headers) when there is one; ``event_type`` None for a batch."""
        kind = self._trace.SpanKind.PRODUCER
        parent = self._context.extract(incoming) if incoming else None
        attributes: dict[str, Any] = {"hookline.workspace_id": workspace_id}
        if event_type is not None:
            attributes["hookline.event_type"] = event_type
        with self._tracer.start_as_current_span(
            "hookline publish", context=parent, kind=kind, attributes=attributes
        ) as span:
            yield PublishSpan(span, self._headers(span).get("traceparent"))

    async def attempt(self, claimed: Claimed, send: Send) -> tuple[AttemptOutcome, Decision]:
        """Run ``send`` (one attempt of ``claimed``, given the trace headers to add to what it
        sends) in the attempt's span; a child of, and linked to, the event's publish span."""
        trace = self._trace
        config = claimed.webhook.config
        kind = trace.SpanKind.CLIENT if config.kind == "webhook" else trace.SpanKind.PRODUCER
        parent = None
        links = []
        if claimed.event.traceparent:
            parent = self._context.extract({"traceparent": claimed.event.traceparent})
            published = trace.get_current_span(parent).get_span_context()
            if published.is_valid:
                links.append(trace.Link(published))
        attributes: dict[str, Any] = {
            "hookline.workspace_id": claimed.delivery.workspace_id,
            "hookline.webhook_id": claimed.webhook.id,
            "hookline.event_id": claimed.event.id,
            "hookline.event_type": claimed.event.type,
            "hookline.delivery_id": claimed.delivery.id,
            "hookline.attempt": claimed.delivery.attempts + 1,
            "hookline.destination_kind": config.kind,
        }
        with self._tracer.start_as_current_span(
            "hookline attempt", context=parent, kind=kind, attributes=attributes, links=links
        ) as span:
            outcome, decision = await send(self._headers(span))
            _describe(span, outcome, trace.StatusCode)
        return outcome, decision

    def _headers(self, span: Span) -> dict[str, str]:
        """``traceparent`` (and ``tracestate``) naming ``span``."""
        carrier: dict[str, str] = {}
        self._context.inject(carrier, context=self._trace.set_span_in_context(span))
        return carrier


def _describe(span: Span, outcome: AttemptOutcome, codes: Any) -> None:
    attempt = outcome.attempt
    if attempt.response_status is not None:
        span.set_attribute("http.response.status_code", attempt.response_status)
    span.set_attribute("hookline.duration_ms", attempt.duration_ms)
    span.set_attribute("hookline.outcome", outcome.status.value)
    if attempt.error_class is not None:
        span.set_attribute("hookline.error_class", attempt.error_class)
        span.set_attribute("error.type", attempt.error_class)
        span.set_status(codes.ERROR, attempt.error_message or attempt.error_class)
    elif outcome.status.value == "failed" or (
        attempt.response_status is not None and attempt.response_status >= 400
    ):
        span.set_status(codes.ERROR, f"answered {attempt.response_status}")
