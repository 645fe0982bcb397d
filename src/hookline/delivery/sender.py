"""Send one HTTP request and describe what happened.

This is the delivery engine's only contact with the network. :meth:`Sender.send`
never raises for network or HTTP trouble: every outcome, good or bad, becomes a
:class:`SendResult` whose ``error_class`` is one of ``dns``, ``connect``,
``tls``, ``timeout``, ``blocked``, ``protocol``, ``http_status`` or
``invalid_request``, so retry policy can be decided by pure code elsewhere.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Mapping
from functools import lru_cache
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp.connector import NEEDS_CLEANUP_CLOSED
from yarl import URL

from hookline.delivery.resolver import GuardedResolver, check_url_host
from hookline.domain.address_policy import AddressPolicy, BlockedAddress
from hookline.domain.records import record

_MAX_MESSAGE = 300
_DNS_CACHE_SECONDS = 30
_MAX_TARGETS = 50_000
# The request itself is unusable (bad URL, non-HTTP scheme); other ValueErrors
# (e.g. a newline in a header value) land in the same class.
_INVALID_REQUEST = (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)


@record
class OutgoingRequest:
    """One HTTP request to send; ``timeout`` (seconds) covers the whole exchange."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    timeout: float
    verify_tls: bool = True


@record
class SendResult:
    """What happened to one request: the response, or why there was none."""

    status: int | None
    headers: dict[str, str]
    body_excerpt: str
    duration_ms: float
    error_class: str | None
    error_message: str | None

    @property
    def ok(self) -> bool:
        """True for a 2xx response."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def retry_after(self) -> str | None:
        """The raw ``Retry-After`` response header, if any."""
        return next((v for k, v in self.headers.items() if k.lower() == "retry-after"), None)


def classify_error(exc: BaseException) -> str:
    """Map an exception raised while sending to a ``SendResult.error_class``."""
    cause = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
    if isinstance(exc, BlockedAddress) or isinstance(cause, BlockedAddress):
        return "blocked"
    if isinstance(exc, asyncio.TimeoutError):  # before OSError: TimeoutError is one
        return "timeout"
    if isinstance(exc, aiohttp.ClientConnectorDNSError | socket.gaierror):
        return "dns"
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError | ssl.CertificateError):
        return "tls"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "connect"
    if isinstance(exc, _INVALID_REQUEST) or not isinstance(exc, OSError | aiohttp.ClientError):
        return "invalid_request"
    return "protocol"


def describe_error(exc: BaseException) -> str:
    """Short text for an exception; never request headers (they may hold secrets)."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, BlockedAddress):
            return describe_error(exc.os_error)
        detail = str(exc.os_error) or exc.os_error.__class__.__name__
        text = f"{detail} ({exc.host}:{exc.port})"
    elif isinstance(exc, aiohttp.ClientResponseError):
        text = f"{exc.status} {exc.message}"
    elif isinstance(exc, aiohttp.InvalidURL):
        text = f"invalid URL: {exc.description or 'malformed'}"
    elif isinstance(exc, aiohttp.NonHttpUrlClientError):
        text = "only http and https URLs can be sent"
    else:
        text = str(exc) or "no detail"
    return f"{type(exc).__name__}: {text}"[:_MAX_MESSAGE]


def _first_values(headers: Mapping[str, str]) -> dict[str, str]:
    """The first value of each header name. A multidict (aiohttp's response headers) answers
    the first value of a name whatever its case, so ``dict`` of it is that, in one C pass."""
    return dict(headers)


@lru_cache(maxsize=64)
def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    """ClientTimeout objects are immutable; webhooks use a handful of distinct timeouts."""
    return aiohttp.ClientTimeout(total=seconds)


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


async def _read_excerpt(content: aiohttp.StreamReader, limit: int) -> bytes:
    """Read up to ``limit`` bytes; ``read(n)`` may return less than ``n`` before EOF."""
    data = bytearray()
    while len(data) < limit:
        chunk = await content.read(limit - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


class Sender:
    """Sends :class:`OutgoingRequest`s over one pooled, SSRF-guarded session.

    Use ``async with Sender(policy) as sender`` or call :meth:`start` and
    :meth:`close` around its use; both must run inside the event loop.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        excerpt_bytes: int = 4096,
        limit: int = 1000,
        limit_per_host: int = 0,
        user_agent: str = "Hookline/0.1",
    ) -> None:
        self._policy = policy
        self._excerpt_bytes = excerpt_bytes
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None
        self._resolver: GuardedResolver | None = None
        # URL string → (parsed, None or the SSRF refusal's address and reason); see _target.
        self._targets: dict[str, tuple[URL, tuple[str, str] | None]] = {}

    async def start(self) -> None:
        """Open the shared connection pool (idempotent)."""
        if self._session is not None:
            return
        self._resolver = GuardedResolver(self._policy)
        connector = aiohttp.TCPConnector(
            resolver=self._resolver,
            limit=self._limit,
            limit_per_host=self._limit_per_host,
            ttl_dns_cache=_DNS_CACHE_SECONDS,
            # Only the Python versions with the SSL transport leak need it;
            # elsewhere aiohttp warns that the flag is ignored.
            enable_cleanup_closed=NEEDS_CLEANUP_CLOSED,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self._user_agent},
            # No compression, so excerpts stay readable (see _exchange for the headers).
            auto_decompress=False,
            # Deliveries are independent: no cookie may carry from one to the next.
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        """Close the pool and the resolver; the sender may be started again."""
        if self._session is not None:
            await self._session.close()
        if self._resolver is not None:
            await self._resolver.close()
        self._session = None
        self._resolver = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def send(self, request: OutgoingRequest) -> SendResult:
        """Send ``request`` once (redirects are not followed) and describe the outcome.

        One coroutine from the call to the answer: it runs once per delivery, and a frame less
        is a little less work at each step of the exchange.
        """
        session = self._session
        if session is None:
            raise RuntimeError("Sender.start() has not been called")
        started = time.perf_counter()
        try:
            target = self._target(request.url)
            headers, skip = _outgoing_headers(request)
            async with session.request(
                request.method,
                target,
                headers=headers,
                data=request.body,
                timeout=_timeout(request.timeout),
                allow_redirects=False,
                ssl=request.verify_tls,  # True = default verification, False = none
                skip_auto_headers=skip,
            ) as response:
                length = response.content_length
                if length is not None and length <= self._excerpt_bytes:
                    excerpt = await response.read()  # the usual short answer, in one call
                else:
                    excerpt = await _read_excerpt(response.content, self._excerpt_bytes)
                if not response.content.at_eof():
                    # Unread body left on the socket: drop the connection rather
                    # than return it to the pool.
                    response.close()
                return _response_result(response, excerpt, started)
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            # OSError includes asyncio.TimeoutError and BlockedAddress.
            return SendResult(
                status=None,
                headers={},
                body_excerpt="",
                duration_ms=_elapsed_ms(started),
                error_class=classify_error(exc),
                error_message=describe_error(exc),
            )

    def _target(self, url: str) -> URL:
        """The parsed URL, once its IP-literal host (if any) passed the SSRF check. Both are
        remembered per URL string (the policy is fixed): parsing and judging every request's
        URL showed in profiles of many webhooks, and yarl's own cache is small."""
        found = self._targets.get(url)
        if found is None:
            try:
                check_url_host(url, self._policy)
                blocked = None
            except BlockedAddress as exc:
                blocked = (exc.address, exc.reason)
            if len(self._targets) >= _MAX_TARGETS:
                self._targets.clear()
            found = self._targets[url] = (URL(url), blocked)
        parsed, blocked = found
        if blocked is not None:
            raise BlockedAddress(*blocked)
        return parsed


def _outgoing_headers(
    request: OutgoingRequest,
) -> tuple[Mapping[str, str], tuple[str, ...] | None]:
    """The headers to send, and the ones aiohttp must not add on its own.

    No compression (``Accept-Encoding: identity`` unless the request names one), so response
    excerpts stay readable; and no invented ``Content-Type`` for a body that has none. Headers
    are passed explicitly rather than through ``skip_auto_headers`` where possible: aiohttp
    builds a sorted multidict for every request that skips anything.
    """
    headers = request.headers
    if "Accept-Encoding" in headers and ("Content-Type" in headers or request.body is None):
        return headers, None  # as build_request makes them: nothing to add or to skip
    names = {name.lower() for name in headers}
    if "accept-encoding" not in names:
        headers = {**headers, "Accept-Encoding": "identity"}
    if request.body is not None and "content-type" not in names:
        return headers, ("Content-Type",)
    return headers, None  # not (): aiohttp would still build its multidict


def _response_result(
    response: aiohttp.ClientResponse, excerpt: bytes, started: float
) -> SendResult:
    ok = 200 <= response.status < 300
    return SendResult(
        status=response.status,
        headers=_first_values(response.headers),
        body_excerpt=excerpt.decode("utf-8", errors="replace"),
        duration_ms=_elapsed_ms(started),
        error_class=None if ok else "http_status",
        error_message=None if ok else f"HTTP {response.status}",
    )
