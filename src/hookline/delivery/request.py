"""Building the exact HTTP request for one delivery attempt (pure: no I/O).

Order of precedence for headers: Hookline's defaults (the content type, and
``Accept-Encoding: identity`` so that response excerpts stay readable), then the user's custom
headers, which replace those defaults, then Hookline's event headers and signatures, which custom
headers can never override.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote_plus

import orjson

from hookline.delivery.sender import OutgoingRequest
from hookline.domain import secret_headers, signing, templates
from hookline.domain.models import Event, Webhook

BODYLESS_METHODS = frozenset({"GET", "DELETE"})
_FORM = "application/x-www-form-urlencoded"


def sends_event_body(webhook: Webhook) -> bool:
    """Whether an attempt sends the event's body exactly as published (an HTTP webhook or a
    broker action whose :func:`render_body` passes it through; never an email action)."""
    config = webhook.config
    return (
        (config.kind == "webhook" or config.is_broker)
        and (config.is_broker or config.method not in BODYLESS_METHODS)
        and config.body_template is None
        and config.content_type != _FORM
    )


def render_body(webhook: Webhook, event: Event, *, max_bytes: int | None = None) -> bytes | None:
    """The body to send, or None for a bodyless HTTP method (a broker message always has one:
    its method is not used). A body template's rendering is held
    to ``max_bytes`` (:class:`~hookline.errors.TemplateTooLarge`, raised before building it)."""
    config = webhook.config
    if config.method in BODYLESS_METHODS and not config.is_broker:
        return None
    if config.body_template is not None:
        context = template_context(event)
        rendered = templates.render_body(
            config.body_template, context, config.content_type, max_bytes=max_bytes
        )
        return rendered.encode()
    if config.content_type == _FORM:
        return ("payload=" + quote_plus(event.body)).encode()
    return event.body.encode()


def template_context(event: Event) -> ChainMap[str, Any]:
    """Names a template can use: the payload's top-level keys, then ``event`` and ``payload``."""
    payload = orjson.loads(event.body)
    envelope = {
        "event": {"id": event.id, "type": event.type, "created_at": event.created_at},
        "payload": payload,
    }
    return ChainMap(payload if isinstance(payload, dict) else {}, envelope)


def build_request(
    webhook: Webhook,
    event: Event,
    *,
    delivery_id: str,
    attempt: int,
    now: float,
    max_body_bytes: int | None = None,
    extra: Mapping[str, str] | None = None,
) -> OutgoingRequest:
    """The request for one attempt; raises :class:`~hookline.errors.TemplateTooLarge` when
    the body template would render more than ``max_body_bytes`` (None: no limit). ``extra``:
    headers Hookline adds besides its event headers (the W3C trace context when traces are
    exported), with their precedence."""
    config = webhook.config
    assert config.url is not None, "only HTTP webhooks build requests"
    body = render_body(webhook, event, max_bytes=max_body_bytes)
    headers: dict[str, str] = {}
    if body is not None:
        headers["Content-Type"] = config.content_type
    # No compression, so response excerpts stay readable (a custom header may ask otherwise).
    headers["Accept-Encoding"] = "identity"
    headers = with_event_headers(
        webhook, event, headers, body, delivery_id=delivery_id, attempt=attempt, now=now,
        extra=extra,
    )  # fmt: skip
    return OutgoingRequest(
        method=config.method,
        url=config.url,
        headers=headers,
        body=body,
        timeout=config.timeout_seconds,
        verify_tls=config.verify_tls,
    )


def with_event_headers(
    webhook: Webhook,
    event: Event,
    defaults: dict[str, str],
    body: bytes | None,
    *,
    delivery_id: str,
    attempt: int,
    now: float,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``defaults``, then the user's custom headers (which replace a default of the same name,
    in their spelling), then Hookline's event headers and signatures, which no custom header
    overrides. HTTP requests and broker messages carry the same set. ``extra`` (the trace
    context) counts as Hookline's own; signatures cover the body, never these headers."""
    config = webhook.config
    own = {
        "X-Hookline-Event-Id": event.id,
        "X-Hookline-Event-Type": event.type,
        "X-Hookline-Delivery-Id": delivery_id,
        "X-Hookline-Attempt": str(attempt),
    }
    if extra:
        own |= extra
    secrets = webhook.active_secrets(now)
    if secrets:
        schemes = signing.schemes_or_default(config.signature_schemes)
        own |= signing.sign_request(
            schemes,
            secrets,
            msg_id=event.id,
            timestamp_ms=int(now * 1000),
            body=body or b"",
            method=config.method,
            url=config.url or "",
        )
    headers = defaults
    custom = config.headers
    if custom:
        names = {name.lower() for name in custom}
        for default in list(headers):
            if default.lower() in names:
                headers.pop(default, None)  # the user's own value replaces it, in their case
        reserved = {name.lower() for name in own}
        headers |= {k: v for k, v in custom.items() if k.lower() not in reserved}
    headers |= own
    return headers


def redact_headers(headers: Mapping[str, str], marked: Iterable[str] = ()) -> dict[str, str]:
    """Headers as recorded in the attempt log or shown in a preview: credentials (by name, or
    ``marked`` secret by the webhook) masked, signatures kept."""
    return secret_headers.mask(headers, marked)
