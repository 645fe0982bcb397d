"""One attempt: build the request, send it, decide what happens next, describe it for the log."""

from __future__ import annotations

import time

from hookline.delivery.request import build_request, redact_headers
from hookline.delivery.sender import OutgoingRequest, Sender, SendResult
from hookline.ids import new_id
from hookline.models import Attempt, AttemptOutcome, Claimed, DeliveryStatus
from hookline.retry import DEFAULT_SCHEDULE, Decision, Outcome, decide, parse_retry_after

_BODY_LOG_LIMIT = 64 * 1024


async def attempt_delivery(sender: Sender, claimed: Claimed) -> tuple[AttemptOutcome, Decision]:
    """Send one attempt of a claimed delivery and return its outcome (never raises for I/O)."""
    delivery, webhook = claimed.delivery, claimed.webhook
    started = time.time()
    number = delivery.attempts + 1
    request = build_request(
        webhook, claimed.event, delivery_id=delivery.id, attempt=number, now=started
    )
    result = await sender.send(request)
    config = webhook.config
    decision = decide(
        status=result.status,
        error_class=result.error_class,
        attempt=number - delivery.retry_base,
        max_attempts=config.max_attempts,
        schedule=config.retry_schedule or DEFAULT_SCHEDULE,
        retry_after=parse_retry_after(result.retry_after, now=started),
    )
    attempt = describe_attempt(claimed, number, started, request, result)
    return outcome_for(attempt, decision, started), decision


def outcome_for(attempt: Attempt, decision: Decision, started: float) -> AttemptOutcome:
    if decision.outcome is Outcome.SUCCEEDED:
        return AttemptOutcome(attempt, DeliveryStatus.SUCCEEDED, started)
    if decision.outcome is Outcome.RETRY:
        return AttemptOutcome(attempt, DeliveryStatus.PENDING, time.time() + decision.delay)
    disable = "endpoint answered 410 Gone" if decision.outcome is Outcome.DISABLE else None
    return AttemptOutcome(attempt, DeliveryStatus.FAILED, started, disable_webhook=disable)


def describe_attempt(
    claimed: Claimed, number: int, started: float, request: OutgoingRequest, result: SendResult
) -> Attempt:
    body = request.body
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
        request_headers=redact_headers(request.headers),
        request_body=logged_body,
        response_status=result.status,
        response_headers={str(k): str(v) for k, v in result.headers.items()},
        response_body=result.body_excerpt,
        error_class=result.error_class,
        error_message=result.error_message,
    )
