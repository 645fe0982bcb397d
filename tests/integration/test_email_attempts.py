"""One email attempt against a real SMTP server (aiosmtpd): what the server replied, as the
attempt log records it, and what happens next."""

from __future__ import annotations

import time
from typing import Any

from hookline.delivery.attempt import attempt_delivery
from hookline.delivery.email import SmtpConfig
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
from tests.integration.smtp_helpers import Inbox, smtp_server

NOW = 1_800_000_000.0
UNKNOWN = "nobody@example.com"


class _Picky(Inbox):
    """Turns away one recipient and takes the message for the others."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address == UNKNOWN:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def _claimed(to: list[str]) -> Claimed:
    action = EmailAction(to=to, subject="Job $jobId", body="Job $jobId failed\n")
    config = WebhookConfig(name="mail", kind="email", email=action, retry_schedule=[5])
    event = Event("evt_1", "ws_1", "job.failed", '{"jobId": 7}', None, NOW)
    delivery = Delivery(
        "dlv_1", "ws_1", "evt_1", "wh_1", DeliveryStatus.PENDING, 0, 0, NOW, None, None, NOW, NOW,
    )  # fmt: skip
    return Claimed(delivery, event, Webhook("wh_1", "ws_1", config, (), NOW, NOW))


async def _attempt(port: int, to: list[str]) -> Any:
    smtp = SmtpConfig.from_url(f"smtp://127.0.0.1:{port}?starttls=false&from=h@example.com")
    outcome, _ = await attempt_delivery(
        Sender(AddressPolicy()), _claimed(to), max_body_bytes=1 << 20, smtp=smtp
    )
    return outcome


async def test_an_accepted_message_records_the_reply_code_and_the_refused_recipients() -> None:
    inbox = _Picky()
    with smtp_server(inbox) as port:
        outcome = await _attempt(port, ["ops@example.com", UNKNOWN])
    assert outcome.status is DeliveryStatus.SUCCEEDED
    attempt = outcome.attempt
    assert (attempt.request_method, attempt.request_url) == (
        "SMTP",
        f"mailto:ops@example.com, {UNKNOWN}",
    )
    assert attempt.request_headers["Subject"] == "Job 7"
    assert attempt.request_body == "Job 7 failed\n"
    assert (attempt.response_status, attempt.response_headers) == (250, {})
    assert attempt.response_body == f"OK (refused: {UNKNOWN})"
    assert attempt.error_class is None
    [message] = inbox.messages
    assert message["Subject"] == "Job 7"


async def test_a_refused_message_is_an_smtp_error_retried_later() -> None:
    inbox = Inbox()
    inbox.fail_next = 1
    with smtp_server(inbox) as port:
        outcome = await _attempt(port, ["ops@example.com"])
    assert outcome.status is DeliveryStatus.PENDING
    assert outcome.next_attempt_at > time.time() + 1  # the schedule's 5 s, jittered
    attempt = outcome.attempt
    assert (attempt.response_status, attempt.response_body) == (None, "")
    assert attempt.error_class == "smtp"
    assert "try again later" in (attempt.error_message or "")
    assert inbox.messages == []
