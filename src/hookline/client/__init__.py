"""Publisher client for the Hookline REST API.

:class:`AsyncClient` is the implementation: one aiohttp session, typed results, retries.
:class:`Client` runs the very same coroutines on a private event loop in a background thread,
for synchronous code; its methods are generated from :class:`AsyncClient`'s, so there is one
copy of every request. Errors::

    HooklineError                   (hookline.errors)
    ├── HooklineAPIError            the API answered 4xx/5xx: status, code, message, field
    └── HooklineConnectionError     no answer (refused, reset, timed out) after the retries

Retries, at most ``retries`` of them with exponential backoff and jitter, follow a 5xx, a 429
(honouring ``Retry-After``) or a connection error, never another 4xx. A request whose replay
would repeat a side effect (creating a webhook or an event type, rotating a secret, a test
delivery) is retried only when the server surely did not act on it: connection refused, or 429.
``publish`` and ``publish_batch`` are always safe to retry: every event carries an idempotency
key, generated once per call when the caller gives none, so a retry returns the first event
instead of a second one.
"""

from __future__ import annotations

from hookline.client._async import MAX_RETRY_AFTER as MAX_RETRY_AFTER
from hookline.client._async import AsyncClient
from hookline.client._errors import HooklineAPIError, HooklineConnectionError
from hookline.client._sync import Client
from hookline.client._types import (
    Attempt,
    Delivery,
    DeliveryFilters,
    DeliveryRef,
    DeliveryStatus,
    EventType,
    NewEvent,
    Page,
    PortalLink,
    PublishResult,
    TestResult,
    Webhook,
    WebhookChanges,
    WebhookFilters,
    WebhookOptions,
)
from hookline.errors import HooklineError as HooklineError

__all__ = [
    "AsyncClient",
    "Attempt",
    "Client",
    "Delivery",
    "DeliveryFilters",
    "DeliveryRef",
    "DeliveryStatus",
    "EventType",
    "HooklineAPIError",
    "HooklineConnectionError",
    "NewEvent",
    "Page",
    "PortalLink",
    "PublishResult",
    "TestResult",
    "Webhook",
    "WebhookChanges",
    "WebhookFilters",
    "WebhookOptions",
]
