"""One attempt: build the request (HTTP or email), send it, decide what happens next, and
describe it for the attempt log. Aggregation windows are sent as one event carrying the batch.

A body (or email subject or body) whose template would render more than ``max_body_bytes`` is
not built and nothing is sent: the attempt fails with error class ``template_too_large``, and
the delivery with it (the same event renders the same body on every retry).

A broker attempt (``rabbitmq``, ``nats``, ``redis``, ``mqtt``) is logged alike
(:func:`describe_publish`): the method ``PUBLISH``, the broker URL without its password and the
target as the URL, the message's headers and body as the request, and the broker's
acknowledgement (a publisher confirm, a JetStream ack, the ``XADD`` entry id, PUBACK or PUBCOMP)
as the response body, with no status code. It succeeds only on that acknowledgement.

An email attempt is logged in the attempt log's HTTP-shaped fields (:func:`describe_email`):
the method ``SMTP``, the URL ``mailto:`` and the recipients, the message's headers and text as
the request, and the SMTP server's reply code (250) and text as the response."""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.message import EmailMessage

from hookline.delivery.destinations.base import BrokerMessage, PublishResult
from hookline.delivery.destinations.message import InvalidTarget, build_message
from hookline.delivery.destinations.pool import Destinations
from hookline.delivery.email import EmailResult, SmtpConfig, build_email, send_email
from hookline.delivery.request import (
    build_request,
    redact_headers,
    sends_event_body,
    template_context,
)
from hookline.delivery.sender import OutgoingRequest, Sender, SendResult
from hookline.domain import destinations as broker
from hookline.domain.ids import new_id
from hookline.domain.models import (
    Attempt,
    AttemptOutcome,
    Claimed,
    DeliveryStatus,
    Event,
    WebhookConfig,
)
from hookline.domain.retry import DEFAULT_SCHEDULE, Decision, Outcome, decide, parse_retry_after
from hookline.domain.windows import window_event
from hookline.errors import TemplateTooLarge

_BODY_LOG_LIMIT = 64 * 1024
_REPLY_LOG_LIMIT = 4096


async def attempt_delivery(
    sender: Sender,
    claimed: Claimed,
    *,
    max_body_bytes: int,
    smtp: SmtpConfig | None = None,
    destinations: Destinations | None = None,
    trace_headers: Mapping[str, str] | None = None,
) -> tuple[AttemptOutcome, Decision]:
    """Send one attempt of a claimed delivery and return its outcome (never raises for I/O).

    ``max_body_bytes`` bounds what a template may render (``HOOKLINE_MAX_BODY_BYTES``);
    ``destinations`` holds the process's broker connections (broker actions fail without);
    ``trace_headers``, the W3C trace context of the attempt's span, go with an HTTP request or
    a broker message (``hookline.runtime.tracing``)."""
    delivery, webhook = claimed.delivery, claimed.webhook
    event = window_event(delivery, claimed.batch) if claimed.batch else claimed.event
    started = time.time()
    number = delivery.attempts + 1
    config = webhook.config
    if config.kind == "email":
        return await _attempt_email(claimed, event, number, started, smtp, max_body_bytes)
    if config.is_broker:
        return await _attempt_publish(
            destinations, claimed, event, number, started, max_body_bytes, trace_headers
        )
    try:
        request = build_request(
            webhook,
            event,
            delivery_id=delivery.id,
            attempt=number,
            now=started,
            max_body_bytes=max_body_bytes,
            extra=trace_headers,
        )
        result = await sender.send(request)
    except TemplateTooLarge as exc:
        request, result = _not_rendered(config, exc)
    decision = decide(
        status=result.status,
        error_class=result.error_class,
        attempt=number - delivery.retry_base,
        max_attempts=config.max_attempts,
        schedule=config.retry_schedule or DEFAULT_SCHEDULE,
        # Only a refusal can ask to be retried later (a success needs no header look-up).
        retry_after=None if result.ok else parse_retry_after(result.retry_after, now=started),
    )
    attempt = describe_attempt(claimed, number, started, request, result)
    return outcome_for(attempt, decision, started), decision


def _not_rendered(
    config: WebhookConfig, exc: TemplateTooLarge
) -> tuple[OutgoingRequest, SendResult]:
    """The attempt whose template would render too much: described without a body, not sent."""
    request = OutgoingRequest(config.method, config.url or "", {}, None, config.timeout_seconds)
    return request, SendResult(None, {}, "", 0.0, exc.code, str(exc))


async def _attempt_email(
    claimed: Claimed, event: Event, number: int, started: float,
    smtp: SmtpConfig | None, max_body_bytes: int,
) -> tuple[AttemptOutcome, Decision]:  # fmt: skip
    """The email counterpart of :func:`attempt_delivery`'s HTTP exchange."""
    message, result = await _send_email(claimed, event, smtp, max_body_bytes)
    if result.accepted:
        decision = Decision(Outcome.SUCCEEDED, reason=f"SMTP {result.code}")
    else:
        decision = _unanswered(claimed, number, result.error_class)
    attempt = describe_email(claimed, number, started, message, result)
    return outcome_for(attempt, decision, started), decision


def _unanswered(claimed: Claimed, number: int, error_class: str | None) -> Decision:
    """What follows an email or a broker message that was not taken: the retry policy's
    answer for an attempt with no HTTP status."""
    config = claimed.webhook.config
    return decide(
        status=None,
        error_class=error_class,
        attempt=number - claimed.delivery.retry_base,
        max_attempts=config.max_attempts,
        schedule=config.retry_schedule or DEFAULT_SCHEDULE,
    )


async def _send_email(
    claimed: Claimed, event: Event, smtp: SmtpConfig | None, max_body_bytes: int
) -> tuple[EmailMessage | None, EmailResult]:
    """The message as built (None when its template would render too much) and its fate."""
    config = claimed.webhook.config
    assert config.email is not None, "an email action always has its email settings"
    try:
        message = build_email(
            config.email,
            template_context(event),
            default_sender=smtp.sender if smtp else "hookline@localhost",
            message_id=claimed.delivery.id,
            max_bytes=max_body_bytes,
        )
    except TemplateTooLarge as exc:
        return None, EmailResult(None, "", (), 0.0, exc.code, str(exc))
    return message, await send_email(smtp, message, config.timeout_seconds)


async def _attempt_publish(
    destinations: Destinations | None, claimed: Claimed, event: Event, number: int,
    started: float, max_body_bytes: int, trace_headers: Mapping[str, str] | None = None,
) -> tuple[AttemptOutcome, Decision]:  # fmt: skip
    """The broker counterpart of :func:`attempt_delivery`'s HTTP exchange."""
    message: BrokerMessage | None = None
    try:
        message = build_message(
            claimed.webhook,
            event,
            delivery_id=claimed.delivery.id,
            attempt=number,
            now=started,
            max_body_bytes=max_body_bytes,
            extra=trace_headers,
        )
    except TemplateTooLarge as exc:
        result = PublishResult(None, 0.0, exc.code, str(exc))
    except InvalidTarget as exc:
        result = PublishResult(None, 0.0, "invalid_request", str(exc))
    else:
        if destinations is None:
            result = PublishResult(None, 0.0, "invalid_request", "no broker connections here")
        else:
            result = await destinations.publish(message)
    if result.ok:
        decision = Decision(Outcome.SUCCEEDED, reason=result.answer or "acknowledged")
    else:
        decision = _unanswered(claimed, number, result.error_class)
    attempt = describe_publish(claimed, number, started, message, result)
    return outcome_for(attempt, decision, started), decision


def describe_publish(
    claimed: Claimed,
    number: int,
    started: float,
    message: BrokerMessage | None,
    result: PublishResult,
) -> Attempt:
    """A broker attempt as the attempt log shows it (``message`` None: none was built)."""
    config = claimed.webhook.config
    action = config.broker
    assert action is not None, "a broker attempt is of a broker action"
    body: str | None = None
    is_event = False
    if message is not None:
        is_event = (
            not claimed.batch
            and sends_event_body(claimed.webhook)
            and len(message.body) <= _BODY_LOG_LIMIT
        )
        body = claimed.event.body if is_event else _logged_body(message.body)
    headers = dict(message.headers) if message is not None else {}
    return Attempt(
        id=new_id("att"),
        delivery_id=claimed.delivery.id,
        workspace_id=claimed.delivery.workspace_id,
        webhook_id=claimed.webhook.id,
        number=number,
        started_at=started,
        duration_ms=round(result.duration_ms, 3),
        request_method="PUBLISH",
        request_url=broker.describe(config.kind, action, message.target if message else None),
        request_headers=redact_headers(headers, config.secret_headers),
        request_body=body,
        response_status=None,
        response_headers={},
        response_body=(result.answer or "")[:_REPLY_LOG_LIMIT],
        error_class=result.error_class,
        error_message=result.error_message,
        request_body_is_event=is_event,
    )


def outcome_for(attempt: Attempt, decision: Decision, started: float) -> AttemptOutcome:
    if decision.outcome is Outcome.SUCCEEDED:
        return AttemptOutcome(attempt, DeliveryStatus.SUCCEEDED, started)
    if decision.outcome is Outcome.RETRY:
        return AttemptOutcome(attempt, DeliveryStatus.PENDING, time.time() + decision.delay)
    disable = "endpoint answered 410 Gone" if decision.outcome is Outcome.DISABLE else None
    return AttemptOutcome(attempt, DeliveryStatus.FAILED, started, disable_webhook=disable)


def _logged_headers(claimed: Claimed, request: OutgoingRequest) -> dict[str, str]:
    """The request headers for the attempt log. Only a user's custom headers can carry a
    credential (Hookline's own are ids, types and signatures), so without them nothing needs
    redacting."""
    config = claimed.webhook.config
    if not config.headers:
        return dict(request.headers)
    return redact_headers(request.headers, config.secret_headers)


def _logged_body(body: bytes) -> str:
    return body[:_BODY_LOG_LIMIT].decode("utf-8", "replace")


def describe_attempt(
    claimed: Claimed, number: int, started: float, request: OutgoingRequest, result: SendResult
) -> Attempt:
    body = request.body
    is_event = (
        body is not None
        and not claimed.batch
        and sends_event_body(claimed.webhook)
        and len(body) <= _BODY_LOG_LIMIT
    )
    if is_event:
        logged_body: str | None = claimed.event.body  # what ``body`` encodes, without decoding it
    else:
        logged_body = None if body is None else _logged_body(body)
    return Attempt(
        id=new_id("att"),
        delivery_id=claimed.delivery.id,
        workspace_id=claimed.delivery.workspace_id,
        webhook_id=claimed.webhook.id,
        number=number,
        started_at=started,
        duration_ms=round(result.duration_ms, 3),
        request_method=request.method,
        request_url=request.url,
        request_headers=_logged_headers(claimed, request),
        request_body=logged_body,
        response_status=result.status,
        response_headers=result.headers,  # a dict of its own, made for this result
        response_body=result.body_excerpt,
        error_class=result.error_class,
        error_message=result.error_message,
        request_body_is_event=is_event,
    )


def describe_email(
    claimed: Claimed,
    number: int,
    started: float,
    message: EmailMessage | None,
    result: EmailResult,
) -> Attempt:
    """An email attempt as the attempt log shows it (``message`` None: none was built).

    request: method ``SMTP``, URL ``mailto:`` and the To line, the message's headers (secret
    ones masked) and text; response: the SMTP reply code (250, None when the message was not
    taken), no headers, the server's reply text naming any refused recipients (up to 4 KiB)."""
    config = claimed.webhook.config
    body: str | None
    if message is None:
        assert config.email is not None, "an email action always has its email settings"
        to, headers, body = ", ".join(config.email.to), {}, None
    else:
        to, headers = str(message["To"]), {k: str(v) for k, v in message.items()}
        body = _logged_body(message.get_content().encode())
    reply = result.reply + (f" (refused: {', '.join(result.refused)})" if result.refused else "")
    return Attempt(
        id=new_id("att"),
        delivery_id=claimed.delivery.id,
        workspace_id=claimed.delivery.workspace_id,
        webhook_id=claimed.webhook.id,
        number=number,
        started_at=started,
        duration_ms=round(result.duration_ms, 3),
        request_method="SMTP",
        request_url=f"mailto:{to}",
        request_headers=redact_headers(headers, config.secret_headers),
        request_body=body,
        response_status=result.code,
        response_headers={},
        response_body=reply[:_REPLY_LOG_LIMIT],
        error_class=result.error_class,
        error_message=result.error_message,
    )
