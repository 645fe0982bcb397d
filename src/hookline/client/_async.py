"""AsyncClient: the implementation, one aiohttp session with typed results and retries.

The retry rules are in the package docstring (:mod:`hookline.client`)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import Any, Final, Literal, Self, Unpack
from urllib.parse import quote

import aiohttp

from hookline import __version__
from hookline.client._errors import HooklineConnectionError
from hookline.client._types import (
    Delivery,
    DeliveryFilters,
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
    _build,
)
from hookline.client._wire import (
    _Answer,
    _api_error,
    _decode,
    _every,
    _iso,
    _keyed,
    _page,
    _path,
    _query,
)
from hookline.domain.retry import parse_retry_after, retry_delay

#: A longer ``Retry-After`` is not waited for: the error goes to the caller instead.
MAX_RETRY_AFTER: Final = 60.0
_JITTER: Final = 0.5
_USER_AGENT: Final = f"hookline-python/{__version__}"
# Raised by aiohttp when no complete answer arrived; ClientConnectorError means none was sent.
_NO_ANSWER: Final = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError)


class AsyncClient:
    """The Hookline API of one workspace, for asyncio code. Use ``async with`` or ``close()``.

    ``timeout`` bounds each attempt, in seconds; ``retries`` is how many times a failed
    request is sent again, the n-th retry after ``backoff * 2**n`` seconds (±50% jitter).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        workspace_id: str,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise ValueError("timeout must be positive, retries and backoff not negative")
        self._base_url = base_url.rstrip("/")
        self._prefix = f"/v1/workspaces/{quote(workspace_id, safe='')}"
        self._headers = {"Authorization": f"Bearer {api_key}", "User-Agent": _USER_AGENT}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retries = retries
        self._schedule = tuple(backoff * 2**n for n in range(max(retries, 1)))
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()

    # -- events

    async def publish(
        self, type: str, payload: Any, idempotency_key: str | None = None
    ) -> PublishResult:
        """Publish an event; a key already seen returns its first event with ``duplicate``."""
        key = str(uuid.uuid4()) if idempotency_key is None else idempotency_key
        body = {"type": type, "payload": payload, "idempotency_key": key}
        return PublishResult._of(await self._request("POST", "/events", json=body), key)

    async def publish_batch(self, events: Iterable[NewEvent]) -> list[PublishResult]:
        """Publish 1 to 1,000 events in one request, committed together or not at all; one
        result per event, in order. Events without an ``idempotency_key`` get one each, so a
        retry of the whole batch returns the first events (``duplicate``), as ``publish`` does.
        """
        keyed = [_keyed(e) for e in events]
        answer = await self._request("POST", "/events/batch", json={"events": keyed})
        return [
            PublishResult._of(data, str(e["idempotency_key"]))
            for data, e in zip(answer["data"], keyed, strict=True)
        ]

    # -- webhooks

    async def create_webhook(
        self, name: str, url: str, *, secret: str | None = None, **options: Unpack[WebhookOptions]
    ) -> Webhook:
        """Create a webhook; ``secret="generate"`` makes one and returns it (once) in ``secret``."""
        body = {
            "name": name,
            "url": url,
            **options,
            **({} if secret is None else {"secret": secret}),
        }
        return Webhook._of(await self._request("POST", "/webhooks", json=body, replayable=False))

    async def create_destination(
        self,
        name: str,
        kind: Literal["rabbitmq", "nats", "redis", "mqtt"],
        settings: Mapping[str, Any],
        *,
        secret: str | None = None,
        **options: Unpack[WebhookOptions],
    ) -> Webhook:
        """Create an action that publishes to a broker (docs/destinations.md): ``settings`` is
        the kind's object, e.g. ``{"url": "redis://host:6379/0", "stream": "hooks"}``."""
        body = {
            "name": name,
            "kind": kind,
            kind: dict(settings),
            **options,
            **({} if secret is None else {"secret": secret}),
        }
        return Webhook._of(await self._request("POST", "/webhooks", json=body, replayable=False))

    async def get_webhook(self, webhook_id: str, *, include_secret: bool = False) -> Webhook:
        params = _query(include_secret=include_secret)
        return Webhook._of(await self._request("GET", _path("webhooks", webhook_id), params=params))

    async def update_webhook(self, webhook_id: str, **changes: Unpack[WebhookChanges]) -> Webhook:
        """Change some fields (PATCH); give ``None`` to clear an optional one."""
        path = _path("webhooks", webhook_id)
        return Webhook._of(await self._request("PATCH", path, json=changes))

    async def delete_webhook(self, webhook_id: str) -> None:
        await self._request("DELETE", _path("webhooks", webhook_id))

    async def list_webhooks(
        self, *, limit: int = 50, cursor: str | None = None, **filters: Unpack[WebhookFilters]
    ) -> Page[Webhook]:
        """One page of webhooks; see :meth:`iter_webhooks` for all of them."""
        params = _query(limit=limit, cursor=cursor, **filters)
        return _page(await self._request("GET", "/webhooks", params=params), Webhook._of)

    def iter_webhooks(
        self, *, page_size: int = 100, **filters: Unpack[WebhookFilters]
    ) -> AsyncIterator[Webhook]:
        """Every webhook, fetching ``page_size`` at a time."""
        return _every(lambda cursor: self.list_webhooks(limit=page_size, cursor=cursor, **filters))

    async def test_webhook(
        self, webhook_id: str, *, type: str | None = None, payload: Any = None
    ) -> TestResult:
        """Send one sample event to the webhook now (the event type's example by default)."""
        body = {k: v for k, v in {"type": type, "payload": payload}.items() if v is not None}
        path = _path("webhooks", webhook_id, "test")
        return TestResult._of(await self._request("POST", path, json=body, replayable=False))

    async def rotate_secret(
        self, webhook_id: str, *, secret: str | None = None, grace_seconds: float | None = None
    ) -> str:
        """Install a new signing secret (generated unless given) and return it."""
        given = {"secret": secret, "grace_seconds": grace_seconds}
        body = {k: v for k, v in given.items() if v is not None}
        path = _path("webhooks", webhook_id, "rotate-secret")
        return str((await self._request("POST", path, json=body, replayable=False))["secret"])

    async def replay(
        self,
        webhook_id: str,
        since: datetime,
        until: datetime | None = None,
        statuses: tuple[DeliveryStatus, ...] = ("failed",),
    ) -> int:
        """Queue again this webhook's deliveries created in [since, until) with these statuses;
        returns how many. A naive datetime is local time."""
        body = {
            "since": _iso(since),
            "until": until if until is None else _iso(until),
            "statuses": list(statuses),
        }
        path = _path("webhooks", webhook_id, "replay")
        return int((await self._request("POST", path, json=body))["queued"])

    # -- event types

    async def create_event_type(
        self,
        name: str,
        description: str = "",
        schema: dict[str, Any] | None = None,
        example: Any = None,
    ) -> EventType:
        body = {"name": name, "description": description, "schema": schema, "example": example}
        d = await self._request("POST", "/event-types", json=body, replayable=False)
        return _build(EventType, d)

    async def list_event_types(self) -> list[EventType]:
        return [_build(EventType, d) for d in (await self._request("GET", "/event-types"))["data"]]

    async def delete_event_type(self, name: str) -> None:
        await self._request("DELETE", _path("event-types", name))

    # -- deliveries

    async def list_deliveries(
        self, *, limit: int = 50, cursor: str | None = None, **filters: Unpack[DeliveryFilters]
    ) -> Page[Delivery]:
        """One page of deliveries, newest first; see :meth:`iter_deliveries` for all."""
        params = _query(limit=limit, cursor=cursor, **filters)
        return _page(await self._request("GET", "/deliveries", params=params), Delivery._of)

    def iter_deliveries(
        self, *, page_size: int = 100, **filters: Unpack[DeliveryFilters]
    ) -> AsyncIterator[Delivery]:
        """Every delivery that matches, fetching ``page_size`` at a time."""
        return _every(
            lambda cursor: self.list_deliveries(limit=page_size, cursor=cursor, **filters)
        )

    async def get_delivery(self, delivery_id: str) -> Delivery:
        """A delivery with its attempts."""
        return Delivery._of(await self._request("GET", _path("deliveries", delivery_id)))

    async def retry_delivery(self, delivery_id: str) -> Delivery:
        """Queue a delivery again now; its retry schedule starts again from the first step."""
        path = _path("deliveries", delivery_id, "retry")
        return Delivery._of(await self._request("POST", path))

    # -- customer portal

    async def create_portal_link(
        self,
        *,
        expires_in: int = 3600,
        read_only: bool = False,
        event_types: Iterable[str] | None = None,
        theme: Mapping[str, Any] | None = None,
        user: str | None = None,
        feature_flags: Iterable[str] = (),
        destination_kinds: Iterable[str] = (),
    ) -> PortalLink:
        """A link that opens the customer portal for this workspace: send the customer to
        ``url``, or frame it. ``expires_in``: 60 to 604800 seconds; ``event_types``: the types
        (or ``prefix.*``) the customer may see and subscribe to (None: all); ``theme``: this
        link's look over the workspace's; ``user``: who will use it, for the audit log;
        ``feature_flags``: a catalog entry with feature flags is shown only to a link with one
        of them; ``destination_kinds``: the broker kinds (``rabbitmq``, ``nats``, ``redis``,
        ``mqtt``) whose endpoints the customer may see and create besides HTTP webhooks."""
        body: dict[str, Any] = {
            "expires_in": expires_in,
            "read_only": read_only,
            "event_types": None if event_types is None else list(event_types),
            "theme": None if theme is None else dict(theme),
            "user": user,
            "feature_flags": list(feature_flags),
        }
        kinds = list(destination_kinds)
        if kinds:  # only when asked: a Hookline without broker destinations accepts the rest
            body["destination_kinds"] = kinds
        answer = await self._request("POST", "/portal-links", json=body, replayable=False)
        return PortalLink._of(answer)

    async def revoke_portal_links(self) -> None:
        """Revoke every portal link of this workspace, and every portal page opened with one."""
        await self._request("DELETE", "/portal-links")

    # -- transport

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, str] | None = None,
        replayable: bool = True,
    ) -> Any:
        """Send, retrying as the module docstring says; the decoded JSON answer (None if empty).

        ``replayable``: sending it twice does no harm (the server may have acted on a request
        whose answer was lost)."""
        attempt = 0
        while True:
            try:
                answer = await self._send(method, path, json, params)
            except _NO_ANSWER as exc:
                acted = not isinstance(exc, aiohttp.ClientConnectorError)
                delay = self._pause(attempt, None, None, replayable or not acted)
                if delay is None:
                    tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
                    where = f"{method} {self._base_url}{self._prefix}{path}"
                    raise HooklineConnectionError(f"{where}: {exc!r} ({tries})") from exc
            else:
                if answer.status < 400:
                    return _decode(answer.body)
                safe = replayable or answer.status == 429
                delay = self._pause(attempt, answer.status, answer.retry_after, safe)
                if delay is None:
                    raise _api_error(answer)
            await asyncio.sleep(delay)
            attempt += 1

    def _pause(
        self, attempt: int, status: int | None, retry_after: str | None, safe: bool
    ) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``, or None to give up."""
        if attempt >= self._retries or not safe:
            return None
        if status is not None and status != 429 and status < 500:
            return None
        waited = parse_retry_after(retry_after, now=time.time()) if status in (429, 503) else None
        if waited is None:
            return retry_delay(attempt, self._schedule, jitter=_JITTER)
        return waited if waited <= MAX_RETRY_AFTER else None

    async def _send(
        self, method: str, path: str, body: object, params: Mapping[str, str] | None
    ) -> _Answer:
        url = self._base_url + self._prefix + path
        async with self._open().request(method, url, json=body, params=params) as response:
            content = await response.read()
            return _Answer(response.status, response.headers.get("Retry-After"), content)

    def _open(self) -> aiohttp.ClientSession:
        # Created on first use: a session belongs to the running loop (Client's, for one).
        if self._closed:
            raise RuntimeError("this Hookline client is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        return self._session
