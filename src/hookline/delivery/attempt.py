"""One attempt: build the request (HTTP or email), send it, decide what happens next, and
describe it for the attempt log. Aggregation windows are sent as one event carrying the batch.

A body (or email subject or body) whose template would render more than ``max_body_bytes`` is
not built and nothing is sent: the attempt fails with error class ``template_too_large``, and
the delivery with it (the same event renders the same body on every retry)."""

from __future__ import annotations

import time

from hookline.delivery.email import SmtpConfig, build_email, send_email
from hookline.delivery.request import (
    build_request,
    redact_headers,
    sends_event_body,
    template_context,
)
from hookline.delivery.sender import OutgoingRequest, Sender, SendResult
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


async def attempt_delivery(
    sender: Sender, claimed: Claimed, *, max_body_bytes: int, smtp: SmtpConfig | None = None
) -> tuple[AttemptOutcome, Decision]:
    """Send one attempt of a claimed delivery and return its outcome (never raises for I/O).

    ``max_body_bytes`` bounds what a template may render (``HOOKLINE_MAX_BODY_BYTES``)."""
    delivery, webhook = claimed.delivery, claimed.webhook
    event = window_event(delivery, claimed.batch) if claimed.batch else claimed.event
    started = time.time()
    number = delivery.attempts + 1
    try:
        if webhook.config.kind == "email":
            request, result = await _send_email(claimed, event, smtp, max_body_bytes)
        else:
            request = build_request(
                webhook,
                event,
                delivery_id=delivery.id,
                attempt=number,
                now=started,
                max_body_bytes=max_body_bytes,
            )
            result = await sender.send(request)
    except TemplateTooLarge as exc:
        request, result = _not_rendered(webhook.config, exc)
    config = webhook.config
    decision = decide(
        # An email is "2xx" when the SMTP server accepted it (it answers 250).
        status=result.status if config.kind == "webhook" else _email_status(result),
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
    if config.email is not None:
        method, url = "SMTP", "mailto:" + ", ".join(config.email.to)
    else:
        method, url = config.method, config.url or ""
    request = OutgoingRequest(method, url, {}, None, config.timeout_seconds)
    return request, SendResult(None, {}, "", 0.0, exc.code, str(exc))


async def _send_email(
    claimed: Claimed, event: Event, smtp: SmtpConfig | None, max_body_bytes: int
) -> tuple[OutgoingRequest, SendResult]:
    action = claimed.webhook.config.email
    assert action is not None, "an email action always has its email settings"
    message = build_email(
        action,
        template_context(event),
        default_sender=smtp.sender if smtp else "hookline@localhost",
        message_id=claimed.delivery.id,
        max_bytes=max_body_bytes,
    )
    timeout = claimed.webhook.config.timeout_seconds
    result = await send_email(smtp, message, timeout)
    headers = {k: str(v) for k, v in message.items()}
    body = message.get_content().encode()
    described = OutgoingRequest("SMTP", f"mailto:{message['To']}", headers, body, timeout)
    return described, result


def _email_status(result: SendResult) -> int | None:
    return 200 if result.error_class is None else None


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
    if config.kind == "webhook" and not config.headers:
        return dict(request.headers)
    return redact_headers(request.headers, config.secret_headers)


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
        logged_body = None if body is None else body[:_BODY_LOG_LIMIT].decode("utf-8", "replace")
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
