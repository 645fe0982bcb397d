"""Trying a webhook out: the sample event it is tested and previewed with, the Test button (one
real attempt, now) and the preview (the exact request, built and never sent).

Both build the request as the worker does (``hookline.delivery``): the preview through
:func:`~hookline.delivery.request.build_request`, the test through
:func:`~hookline.delivery.attempt.attempt_delivery`. Whether the event would be sent, and what is
sent for a webhook in an aggregation window, is ``hookline.domain.explain``'s answer, the
router's own. The sample event is ``hookline.domain.samples``'s.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from hookline.delivery.attempt import attempt_delivery
from hookline.delivery.destinations.message import InvalidTarget, build_message
from hookline.delivery.email import smtp_config
from hookline.delivery.request import build_request, redact_headers
from hookline.delivery.sender import OutgoingRequest
from hookline.domain import destinations, signing
from hookline.domain.explain import explain
from hookline.domain.models import (
    Attempt,
    AttemptOutcome,
    Claimed,
    Delivery,
    DeliveryStatus,
    Event,
    Flow,
    SecretEntry,
    Webhook,
    WebhookConfig,
)
from hookline.domain.publication import new_delivery, new_event
from hookline.domain.records import record
from hookline.domain.samples import Sample, sample_event
from hookline.errors import SigningError, TemplateTooLarge, ValidationFailed
from hookline.services.deps import Deps
from hookline.services.webhooks import GENERATE, load

__all__ = ["DRAFT_ID", "Preview", "TestResult", "preview", "preview_draft", "sample", "send_test"]

#: The id a preview of an unsaved configuration gives its webhook.
DRAFT_ID = "wh_preview"


async def sample(
    deps: Deps, ws: str, patterns: list[str], *, type: str | None = None, payload: Any = None
) -> Sample:
    """The sample event of a webhook subscribing to ``patterns`` (``domain.samples``)."""
    catalog = await deps.store.catalog.workspace_event_types(ws)
    return sample_event(patterns, catalog, type=type, payload=payload)


@record
class TestResult:
    """The test event, its delivery and the one attempt made."""

    event: Event
    delivery: Delivery
    attempt: Attempt

    @property
    def success(self) -> bool:
        return self.attempt.error_class is None


async def send_test(
    deps: Deps, ws: str, webhook_id: str, *, type: str | None = None, payload: Any = None
) -> TestResult:
    """Send one real delivery of a sample event now (to a disabled webhook too) and record it
    with its attempt, as the worker records any; no retry follows."""
    hook = await load(deps, ws, webhook_id)
    chosen = await sample(deps, ws, hook.config.events, type=type, payload=payload)
    now = time.time()
    event = new_event(ws, chosen.type, chosen.payload, None, now)
    # Stored as already finished so no worker picks it up; the attempt below settles it.
    delivery = replace(new_delivery(event, hook.id, now), status=DeliveryStatus.FAILED)
    await deps.store.publishing.publish(event, [delivery])
    outcome, _ = await attempt_delivery(
        deps.sender,
        Claimed(delivery, event, hook),
        smtp=smtp_config(deps.settings.smtp_url),
        max_body_bytes=deps.settings.max_body_bytes,
        destinations=deps.destinations,
    )
    attempt = outcome.attempt
    final = DeliveryStatus.SUCCEEDED if attempt.error_class is None else DeliveryStatus.FAILED
    await deps.store.queue.record([AttemptOutcome(attempt, final, now)], time.time())
    return TestResult(event, delivery, attempt)


@record
class Preview:
    """The request a webhook would send for an event: ``headers`` as shown (credential values
    masked), whether it goes as an aggregation window, and why it would not be sent now."""

    type: str
    request: OutgoingRequest
    headers: dict[str, str]
    aggregated: bool
    not_sent_because: str | None

    @property
    def would_send(self) -> bool:
        return self.not_sent_because is None

    @property
    def body(self) -> str | None:
        """The body as text, byte for byte as sent (bytes that are not UTF-8 replaced)."""
        body = self.request.body
        return None if body is None else body.decode("utf-8", "replace")


async def preview(
    deps: Deps, ws: str, webhook_id: str, *, type: str | None = None, payload: Any = None
) -> Preview:
    """The request the stored webhook would send for this event (by default its sample
    event, which must come from the catalog: 422 on ``type`` or ``payload`` otherwise)."""
    hook = await load(deps, ws, webhook_id)
    if hook.config.kind == "email":
        raise ValidationFailed("this action sends email; a preview shows a request or a message")
    flow = await _flow(deps, ws, hook.config)
    chosen = await sample(deps, ws, hook.config.events, type=type, payload=payload)
    if chosen.invented == "type":
        patterns = hook.config.events
        raise ValidationFailed(
            f"type: give an event type; this webhook's events {patterns} match no event type"
            " in the catalog",
            field="type",
        )
    if chosen.invented == "payload":
        raise ValidationFailed(
            f"payload: no payload given and the catalog has no example for {chosen.type!r};"
            " send a payload, or add an example to the event type",
            field="payload",
        )
    return _preview(deps, hook, flow, chosen)


async def preview_draft(
    deps: Deps, ws: str, config: WebhookConfig, *, webhook_id: str | None, secret: str
) -> Preview:
    """The request an unsaved configuration would send for its sample event (the Test
    button's), signed with the stored secret when editing ``webhook_id``, else with ``secret``
    as typed when it can sign (no signatures otherwise)."""
    assert config.kind != "email", "an email action has no request to preview"
    secrets = await _draft_secrets(deps, ws, webhook_id, secret, config.signature_schemes)
    now = time.time()
    hook = Webhook(webhook_id or DRAFT_ID, ws, config, secrets, now, now)
    chosen = await sample(deps, ws, config.events)
    return _preview(deps, hook, await _flow(deps, ws, config), chosen)


async def _draft_secrets(
    deps: Deps, ws: str, webhook_id: str | None, typed: str, schemes: list[str]
) -> tuple[SecretEntry, ...]:
    if webhook_id:
        found = await deps.store.config.get_webhook(ws, webhook_id)
        return found.secrets[:1] if found else ()
    if not typed or typed == GENERATE:
        return ()
    try:
        signing.validate_secret(typed, signing.schemes_or_default(schemes))
    except SigningError:
        return ()
    return (SecretEntry(typed),)


async def _flow(deps: Deps, ws: str, config: WebhookConfig) -> Flow | None:
    return await deps.store.config.get_flow(ws, config.flow) if config.flow else None


def _built(
    hook: Webhook, event: Event, delivery_id: str, now: float, max_body_bytes: int
) -> OutgoingRequest:
    """What the first attempt would send: the HTTP request, or for a broker action its message
    as a request-shaped record (method ``PUBLISH``, the attempt log's URL for the broker and
    target), exactly as the worker builds them."""
    if not hook.config.is_broker:
        return build_request(
            hook, event, delivery_id=delivery_id, attempt=1, now=now, max_body_bytes=max_body_bytes
        )
    message = build_message(
        hook, event, delivery_id=delivery_id, attempt=1, now=now, max_body_bytes=max_body_bytes
    )
    action = message.action
    url = destinations.describe(hook.config.kind, action, message.target)
    return OutgoingRequest("PUBLISH", url, message.headers, message.body, message.timeout)


def _preview(deps: Deps, hook: Webhook, flow: Flow | None, chosen: Sample) -> Preview:
    now = time.time()
    event = new_event(hook.workspace_id, chosen.type, chosen.payload, None, now)
    delivery = new_delivery(event, hook.id, now)
    shown = explain(hook, flow, event, delivery)
    try:
        request = _built(hook, shown.sent, delivery.id, now, deps.settings.max_body_bytes)
    except TemplateTooLarge as exc:  # refused before the body is built, as the worker does
        raise ValidationFailed(
            f"body_template: {exc}", field="body_template", code=exc.code
        ) from None
    except InvalidTarget as exc:
        field = f"{hook.config.kind}.target"
        raise ValidationFailed(f"{field}: {exc}", field=field) from None
    headers = redact_headers(request.headers, hook.config.secret_headers)
    return Preview(chosen.type, request, headers, shown.aggregated, shown.not_sent_because)
