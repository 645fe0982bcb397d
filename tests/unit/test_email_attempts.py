"""How an email attempt is recorded: :class:`EmailResult` mapped onto the attempt log's fields,
and the attempts that never reach an SMTP server (pure; real SMTP exchanges are in
tests/integration/test_email_attempts.py)."""

from __future__ import annotations

from typing import Any

from hookline.delivery.attempt import attempt_delivery, describe_email
from hookline.delivery.email import EmailResult, build_message, send_email
from hookline.delivery.sender import Sender
from hookline.domain.address_policy import AddressPolicy
from hookline.domain.models import (
    Claimed,
    Delivery,
    DeliveryStatus,
    EmailAction,
    Event,
    Webhook,
    WebhookConfig,
)

NOW = 1_800_000_000.0
TO = ["ops@example.com", "team@example.com"]


def _claimed(**action: Any) -> Claimed:
    email = EmailAction(to=TO, subject="Job $jobId", body="Job $jobId: $status\n", **action)
    config = WebhookConfig(
        name="mail", kind="email", email=email, secret_headers=["X-Ticket"], max_attempts=3
    )
    event = Event("evt_1", "ws_1", "job.failed", '{"jobId": 7, "status": "failed"}', None, NOW)
    delivery = Delivery(
        "dlv_1", "ws_1", "evt_1", "wh_1", DeliveryStatus.PENDING, 0, 0, NOW, None, None, NOW, NOW,
    )  # fmt: skip
    return Claimed(delivery, event, Webhook("wh_1", "ws_1", config, (), NOW, NOW))


def test_an_accepted_message_is_logged_as_sent_with_the_server_s_reply() -> None:
    message = build_message("hookline@example.com", TO, "Job 7", "Job 7: failed\n", message_id="m")
    message["X-Ticket"] = "T-123"
    result = EmailResult(250, "OK queued", ("team@example.com",), 12.34567)
    attempt = describe_email(_claimed(), 2, NOW, message, result)
    assert (attempt.request_method, attempt.request_url) == (
        "SMTP",
        "mailto:ops@example.com, team@example.com",
    )
    assert attempt.request_headers["Subject"] == "Job 7"
    assert attempt.request_headers["X-Ticket"] == "[redacted]"  # marked secret
    assert attempt.request_body == "Job 7: failed\n"
    assert (attempt.response_status, attempt.response_headers) == (250, {})
    assert attempt.response_body == "OK queued (refused: team@example.com)"
    assert (attempt.error_class, attempt.error_message) == (None, None)
    assert (attempt.number, attempt.duration_ms, attempt.request_body_is_event) == (
        2,
        12.346,
        False,
    )


def test_a_long_reply_is_cut_to_4_kib() -> None:
    message = build_message("h@example.com", TO, "s", "b", message_id="m")
    attempt = describe_email(_claimed(), 1, NOW, message, EmailResult(250, "x" * 5000, (), 1.0))
    assert attempt.response_body == "x" * 4096


def test_a_message_never_built_is_logged_with_its_recipients_and_no_body() -> None:
    result = EmailResult(None, "", (), 0.0, "template_too_large", "too large")
    attempt = describe_email(_claimed(), 1, NOW, None, result)
    assert attempt.request_url == "mailto:ops@example.com, team@example.com"
    assert (attempt.request_headers, attempt.request_body) == ({}, None)
    assert (attempt.response_status, attempt.response_body) == (None, "")
    assert (attempt.error_class, attempt.error_message) == ("template_too_large", "too large")


async def test_without_an_smtp_server_nothing_is_sent_and_the_delivery_fails() -> None:
    message = build_message("h@example.com", TO, "s", "b", message_id="m")
    result = await send_email(None, message, timeout=1)
    assert not result.accepted
    assert (result.code, result.error_class) == (None, "invalid_request")
    outcome, _ = await attempt_delivery(
        Sender(AddressPolicy()), _claimed(), max_body_bytes=1 << 20, smtp=None
    )
    assert outcome.status is DeliveryStatus.FAILED
    assert outcome.attempt.error_message == "email actions need HOOKLINE_SMTP_URL"
    assert outcome.attempt.request_body == "Job 7: failed\n"


async def test_a_body_template_that_renders_too_much_fails_without_building_the_message() -> None:
    outcome, _ = await attempt_delivery(
        Sender(AddressPolicy()), _claimed(), max_body_bytes=5, smtp=None
    )
    assert outcome.status is DeliveryStatus.FAILED
    attempt = outcome.attempt
    assert (attempt.error_class, attempt.request_body, attempt.duration_ms) == (
        "template_too_large",
        None,
        0.0,
    )
    assert attempt.request_url == "mailto:ops@example.com, team@example.com"
