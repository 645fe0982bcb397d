"""Building the exact HTTP request for one delivery attempt (pure: no I/O).

Order of precedence for headers: Hookline's content type, then the user's custom headers, then
Hookline's event headers and signatures, which custom headers can never override.
"""

from __future__ import annotations

from collections import ChainMap
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus

import orjson

from hookline import signing, templates
from hookline.delivery.sender import OutgoingRequest
from hookline.models import Event, Webhook

BODYLESS_METHODS = frozenset({"GET", "DELETE"})
_SENSITIVE = ("authorization", "cookie", "token", "secret", "password", "api-key", "apikey")


def render_body(webhook: Webhook, event: Event) -> bytes | None:
    config = webhook.config
    if config.method in BODYLESS_METHODS:
        return None
    if config.body_template is not None:
        context = template_context(event)
        return templates.render_body(config.body_template, context, config.content_type).encode()
    if config.content_type == "application/x-www-form-urlencoded":
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
    webhook: Webhook, event: Event, *, delivery_id: str, attempt: int, now: float
) -> OutgoingRequest:
    config = webhook.config
    assert config.url is not None, "only HTTP webhooks build requests"
    body = render_body(webhook, event)
    headers: dict[str, str] = {}
    if body is not None:
        headers["Content-Type"] = config.content_type
    own = {
        "X-Hookline-Event-Id": event.id,
        "X-Hookline-Event-Type": event.type,
        "X-Hookline-Delivery-Id": delivery_id,
        "X-Hookline-Attempt": str(attempt),
    }
    secrets = webhook.active_secrets(now)
    if secrets:
        schemes = config.signature_schemes or ["standard"]
        own |= signing.sign_request(
            schemes,
            secrets,
            msg_id=event.id,
            timestamp_ms=int(now * 1000),
            body=body or b"",
            method=config.method,
            url=config.url,
        )
    reserved = {name.lower() for name in own}
    headers |= {k: v for k, v in config.headers.items() if k.lower() not in reserved}
    headers |= own
    return OutgoingRequest(
        method=config.method,
        url=config.url,
        headers=headers,
        body=body,
        timeout=config.timeout_seconds,
        verify_tls=config.verify_tls,
    )


@lru_cache(maxsize=1024)
def _is_sensitive(name: str) -> bool:
    lowered = name.lower()
    return any(s in lowered for s in _SENSITIVE)


def redact_headers(headers: dict[str, str] | Any) -> dict[str, str]:
    """Headers as recorded in the attempt log: credentials replaced, signatures kept."""
    return {k: "[redacted]" if _is_sensitive(k) else v for k, v in dict(headers).items()}
