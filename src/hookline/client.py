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

import asyncio
import functools
import json
import threading
import time
import uuid
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Mapping,
)
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Final,
    Generic,
    Literal,
    NotRequired,
    ParamSpec,
    Self,
    TypedDict,
    TypeVar,
    Unpack,
)
from urllib.parse import quote

import aiohttp

from hookline import __version__
from hookline.errors import HooklineError
from hookline.retry import parse_retry_after, retry_delay

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

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
    "PublishResult",
    "TestResult",
    "Webhook",
    "WebhookChanges",
    "WebhookFilters",
    "WebhookOptions",
]

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")
D = TypeVar("D", bound="DataclassInstance")
DeliveryStatus = Literal["pending", "succeeded", "failed"]

#: A longer ``Retry-After`` is not waited for: the error goes to the caller instead.
MAX_RETRY_AFTER: Final = 60.0
_JITTER: Final = 0.5
_USER_AGENT: Final = f"hookline-python/{__version__}"
# Raised by aiohttp when no complete answer arrived; ClientConnectorError means none was sent.
_NO_ANSWER: Final = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError)


class HooklineAPIError(HooklineError):
    """The API answered with an error: HTTP status, stable ``code``, ``message``, ``field``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field


class HooklineConnectionError(HooklineError):
    """The API could not be reached, or did not answer, even after the retries."""


# ---- request bodies ---------------------------------------------------------------------


class NewEvent(TypedDict):
    """One event of :meth:`AsyncClient.publish_batch`."""

    type: str
    payload: Any
    idempotency_key: NotRequired[str]


class WebhookOptions(TypedDict, total=False):
    """Optional webhook settings; the names and meanings are those of the REST API."""

    description: str
    method: Literal["POST", "PUT", "PATCH", "GET", "DELETE"]
    content_type: Literal["application/json", "application/x-www-form-urlencoded"]
    headers: dict[str, str]
    signature_schemes: list[str]
    events: list[str]
    filter: dict[str, Any] | None
    body_template: str | None
    max_attempts: int
    retry_schedule: list[float] | None
    enabled: bool
    verify_tls: bool
    timeout_seconds: float
    aggregation_seconds: int
    aggregation_max_events: int | None
    rate_limit_per_second: float | None
    ordering: Literal["none", "fifo"]
    flow: str | None
    metadata: dict[str, str]


class WebhookChanges(WebhookOptions, total=False):
    """The fields ``update_webhook`` may change; the others keep their value."""

    name: str
    url: str


class WebhookFilters(TypedDict, total=False):
    enabled: bool
    flow: str
    search: str


class DeliveryFilters(TypedDict, total=False):
    webhook_id: str
    event_id: str
    status: DeliveryStatus
    since: datetime
    until: datetime


# ---- results ------------------------------------------------------------------------------


def _build(cls: type[D], data: Mapping[str, Any], **converted: Any) -> D:
    """A result from an API object: its fields of the same names (``*_at`` as datetimes),
    overridden by ``converted``; other keys are ignored, so the API may grow."""
    values = {
        f.name: _time(data[f.name]) if f.name.endswith("_at") else data[f.name]
        for f in fields(cls)
        if f.name in data
    }
    return cls(**(values | converted))


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; pass ``next_cursor`` back for the next (None: the last page)."""

    data: tuple[T, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class DeliveryRef:
    id: str
    webhook_id: str


@dataclass(frozen=True, slots=True)
class PublishResult:
    """The accepted event; ``duplicate`` when its idempotency key had been seen before."""

    id: str
    type: str
    duplicate: bool
    deliveries: tuple[DeliveryRef, ...]
    idempotency_key: str

    @classmethod
    def _of(cls, data: Mapping[str, Any], key: str) -> PublishResult:
        refs = tuple(_build(DeliveryRef, d) for d in data["deliveries"])
        return _build(cls, data, deliveries=refs, idempotency_key=key)


@dataclass(frozen=True, slots=True)
class Webhook:
    """A webhook; ``raw`` holds every field the API returned (method, headers, filter …)."""

    id: str
    name: str
    url: str
    events: tuple[str, ...]
    enabled: bool
    disabled_reason: str | None
    has_secret: bool
    secret: str | None  # only on creation with secret="generate", or with include_secret
    created_at: datetime | None
    updated_at: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _of(cls, data: Mapping[str, Any]) -> Webhook:
        return _build(cls, data, events=tuple(data["events"]), raw=data)


@dataclass(frozen=True, slots=True)
class EventType:
    id: str
    name: str
    description: str
    schema: dict[str, Any] | None
    example: Any
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt: ``status`` is the receiver's HTTP status, None if it never answered."""

    id: str
    number: int
    started_at: datetime | None
    duration_ms: float
    status: int | None
    error_class: str | None
    error_message: str | None
    request: Mapping[str, Any] = field(repr=False)
    response: Mapping[str, Any] = field(repr=False)

    @classmethod
    def _of(cls, data: Mapping[str, Any]) -> Attempt:
        return _build(cls, data, status=data["response"]["status"])


@dataclass(frozen=True, slots=True)
class Delivery:
    """A delivery of one event to one webhook; ``attempts`` only from ``get_delivery``."""

    id: str
    event_id: str
    webhook_id: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime | None
    updated_at: datetime | None
    attempts: tuple[Attempt, ...] = ()

    @classmethod
    def _of(cls, data: Mapping[str, Any]) -> Delivery:
        return _build(cls, data, attempts=tuple(map(Attempt._of, data.get("attempts", ()))))


@dataclass(frozen=True, slots=True)
class TestResult:
    """The outcome of the webhook Test button: one real delivery, attempted once."""

    __test__ = False  # keeps pytest from collecting it where users import it into tests

    success: bool
    event_id: str
    delivery_id: str
    attempt: Attempt

    @classmethod
    def _of(cls, data: Mapping[str, Any]) -> TestResult:
        return _build(cls, data, attempt=Attempt._of(data["attempt"]))


# ---- the client ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    retry_after: str | None
    body: bytes


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()  # a naive datetime is local time, as in Python


def _query(**values: object) -> dict[str, str]:
    """Query parameters: None is left out, booleans are lower case, datetimes ISO 8601."""
    text = {True: "true", False: "false"}
    return {
        name: _iso(v) if isinstance(v, datetime) else text[v] if isinstance(v, bool) else str(v)
        for name, v in values.items()
        if v is not None
    }


def _api_error(answer: _Answer) -> HooklineAPIError:
    try:
        error = json.loads(answer.body)["error"]
        return HooklineAPIError(answer.status, error["code"], error["message"], error["field"])
    except (ValueError, KeyError, TypeError):  # not our API answering: a proxy, say
        text = answer.body.decode("utf-8", "replace").strip()[:200]
        return HooklineAPIError(answer.status, "http_error", text or f"HTTP {answer.status}")


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
        """Queue a delivery again now, for a fresh round of attempts."""
        path = _path("deliveries", delivery_id, "retry")
        return Delivery._of(await self._request("POST", path))

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


def _keyed(event: NewEvent) -> dict[str, Any]:
    key = event.get("idempotency_key")
    return {**event, "idempotency_key": str(uuid.uuid4()) if key is None else key}


def _decode(body: bytes) -> Any:
    return json.loads(body) if body else None


def _path(*parts: str) -> str:
    return "".join("/" + quote(part, safe="") for part in parts)


def _page(data: Any, parse: Callable[[Any], T]) -> Page[T]:
    return Page(tuple(parse(item) for item in data["data"]), data["next_cursor"])


async def _every(fetch: Callable[[str | None], Awaitable[Page[T]]]) -> AsyncIterator[T]:
    """Every item of a listing, page after page."""
    page = await fetch(None)
    while True:
        for item in page.data:
            yield item
        if page.next_cursor is None:
            return
        page = await fetch(page.next_cursor)


# ---- the synchronous client -----------------------------------------------------------------


def _blocking(
    method: Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[Client, P], R]:
    """The Client method that runs an AsyncClient method on the client's loop and waits."""

    @functools.wraps(method)  # its name, docstring and (through __wrapped__) signature
    def call(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._run(method(self._async, *args, **kwargs))

    call.__qualname__ = f"Client.{method.__name__}"
    return call


def _blocking_iter(
    method: Callable[Concatenate[AsyncClient, P], AsyncIterator[T]],
) -> Callable[Concatenate[Client, P], Iterator[T]]:
    """The same for an async iterator: each step runs on the client's loop."""

    @functools.wraps(method)
    def call(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        return self._iterate(method(self._async, *args, **kwargs))

    call.__qualname__ = f"Client.{method.__name__}"
    return call


async def _step(items: AsyncIterator[T]) -> tuple[T, ...]:
    # The end is a value, (), rather than StopAsyncIteration raised through the future.
    try:
        return (await anext(items),)
    except StopAsyncIteration:
        return ()


class Client:
    """The Hookline API of one workspace, for synchronous code; thread-safe.

    Every method is :class:`AsyncClient`'s, run on a private event loop in a background
    thread; arguments, results and errors are the same. Use ``with`` or ``close()``.
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
        self._async = AsyncClient(
            base_url,
            api_key,
            workspace_id=workspace_id,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="hookline-client", daemon=True
        )
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session and stop the background thread; calling it again is harmless."""
        if self._loop.is_closed():
            return
        try:
            self._run(self._async.close())
            self._run(self._loop.shutdown_asyncgens())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    publish = _blocking(AsyncClient.publish)
    publish_batch = _blocking(AsyncClient.publish_batch)
    create_webhook = _blocking(AsyncClient.create_webhook)
    get_webhook = _blocking(AsyncClient.get_webhook)
    update_webhook = _blocking(AsyncClient.update_webhook)
    delete_webhook = _blocking(AsyncClient.delete_webhook)
    list_webhooks = _blocking(AsyncClient.list_webhooks)
    iter_webhooks = _blocking_iter(AsyncClient.iter_webhooks)
    test_webhook = _blocking(AsyncClient.test_webhook)
    rotate_secret = _blocking(AsyncClient.rotate_secret)
    replay = _blocking(AsyncClient.replay)
    create_event_type = _blocking(AsyncClient.create_event_type)
    list_event_types = _blocking(AsyncClient.list_event_types)
    delete_event_type = _blocking(AsyncClient.delete_event_type)
    list_deliveries = _blocking(AsyncClient.list_deliveries)
    iter_deliveries = _blocking_iter(AsyncClient.iter_deliveries)
    get_delivery = _blocking(AsyncClient.get_delivery)
    retry_delivery = _blocking(AsyncClient.retry_delivery)

    def _run(self, coro: Coroutine[Any, Any, R]) -> R:
        if self._loop.is_closed() or threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("this Hookline client is closed, or called from its own loop")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result()
        finally:
            future.cancel()  # no-op once done; stops the request if we were interrupted

    def _iterate(self, items: AsyncIterator[T]) -> Iterator[T]:
        while step := self._run(_step(items)):
            yield step[0]
