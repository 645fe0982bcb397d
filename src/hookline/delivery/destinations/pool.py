"""The broker connections of one process: one per distinct broker URL, shared by every action
that publishes there, reconnected with backoff, closed when nothing has used it for a while.

:meth:`Destinations.publish` never raises for broker trouble: every outcome becomes a
:class:`~.base.PublishResult` (as ``Sender.send`` does for HTTP), so the attempt machinery
records it and the retry policy decides what follows.

**Addresses.** Before a connection is opened, the broker's host is resolved and every answer
judged by the outgoing-address policy, as for HTTP: loopback, private and link-local brokers are
refused (error class ``blocked``) unless ``HOOKLINE_ALLOWED_NETWORKS`` allows them. A plain
connection then dials the judged address itself, so a DNS answer cannot change in between; a
TLS connection dials the name (its certificate is checked against it) right after the check.

**Reconnecting.** A connection that breaks (the broker closed it, a publish timed out) is
dropped and the next publish opens a new one at once. When opening fails, further publishes to
that URL fail fast with the same error for a backoff that doubles from 0.5 s to 30 s, so a
broker that is down costs one connection attempt per backoff, not one per delivery; their
deliveries are retried on their own schedules.

**Closing.** A connection no publish has used for ``idle_seconds`` (5 minutes) is closed by a
sweep: so when the last action using a URL is deleted, disabled or changed, its connection goes.
"""

from __future__ import annotations

import asyncio
import importlib
import ipaddress
import logging
import socket
import time
from dataclasses import dataclass

from hookline.delivery.destinations.base import (
    BrokerError,
    BrokerMessage,
    Connection,
    Connector,
    PublishResult,
    classify,
    describe_error,
)
from hookline.domain.address_policy import AddressPolicy, check_literal_host
from hookline.domain.destinations import (
    EXTRAS,
    MASK,
    credentials,
    host_and_port,
    uses_tls,
    with_host,
)

log = logging.getLogger(__name__)

_MODULES = {
    "rabbitmq": "hookline.delivery.destinations.rabbitmq",
    "nats": "hookline.delivery.destinations.nats",
    "redis": "hookline.delivery.destinations.redis_streams",
    "mqtt": "hookline.delivery.destinations.mqtt",
}
_FIRST_BACKOFF = 0.5
_MAX_BACKOFF = 30.0
_SWEEP_SECONDS = 30.0
_MARGIN = 0.05  # seconds: opening a connection ends this much before the publish's deadline


def missing_extra(kind: str) -> str | None:
    """The extra to install when ``kind``'s client library is missing (None: it is there)."""
    module, extra = EXTRAS[kind]
    try:
        importlib.import_module(module)
    except ImportError:
        return extra
    return None


def connector(kind: str) -> Connector:
    """The ``connect`` coroutine of ``kind``'s publisher (``ImportError`` without its library)."""
    module = importlib.import_module(_MODULES[kind])
    found: Connector = module.connect
    return found


@dataclass(slots=True)
class _Entry:
    """One broker URL's connection, and what the last attempt to open one left."""

    kind: str
    url: str
    connection: Connection | None = None
    opening: asyncio.Lock | None = None
    failures: int = 0
    retry_at: float = 0.0  # monotonic: no new connection before this after a failure
    last_error: BrokerError | None = None
    last_used: float = 0.0


class Destinations:
    """The broker connections of one worker or API process (see the module)."""

    def __init__(
        self, policy: AddressPolicy, *, idle_seconds: float = 300.0, verify_tls: bool = True
    ) -> None:
        self._policy = policy
        self._idle = idle_seconds
        self._verify_tls = verify_tls
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def open_connections(self) -> int:
        """How many connections are open now (for tests and metrics)."""
        return sum(1 for e in self._entries.values() if e.connection is not None)

    async def publish(self, message: BrokerMessage) -> PublishResult:
        """Publish one message and wait for the broker's acknowledgement (never raises)."""
        started = time.perf_counter()
        entry = self._entry(message.kind, message.action.url)
        connection: Connection | None = None
        deadline = asyncio.get_running_loop().time() + message.timeout
        try:
            async with asyncio.timeout_at(deadline):
                connection = await self._connection(entry, deadline)
                answer = await connection.publish(message)
        except BrokerError as exc:
            if exc.drop and connection is not None:
                await self._drop(entry, connection)
            return self._failed(entry, started, exc.error_class, str(exc))
        except TimeoutError:
            if connection is None:
                text = f"no connection to the broker within {message.timeout:g} s"
            else:
                await self._drop(entry, connection)  # its state is unknown: start afresh
                text = f"no acknowledgement from the broker within {message.timeout:g} s"
            return self._failed(entry, started, "timeout", text)
        except Exception as exc:  # every failure becomes an attempt record
            if connection is not None:
                await self._drop(entry, connection)
            return self._failed(entry, started, classify(exc), describe_error(exc))
        return PublishResult(answer, _ms(started))

    async def close(self) -> None:
        """Close every connection (the process is stopping)."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        entries, self._entries = list(self._entries.values()), {}
        for entry in entries:
            if entry.connection is not None:
                await _close_quietly(entry.connection)
                entry.connection = None

    def _entry(self, kind: str, url: str) -> _Entry:
        key = (kind, url)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry(kind, url)
        entry.last_used = time.monotonic()
        if self._sweeper is None and not self._closed:
            self._sweeper = asyncio.create_task(self._sweep())
        return entry

    async def _connection(self, entry: _Entry, deadline: float) -> Connection:
        """The entry's open connection, opened now if need be (by one publish at a time; the
        others wait for it). Opening ends a little before ``deadline`` so that a broker that
        never answers is recorded as a failure, with its backoff, not just cancelled."""
        connection = entry.connection
        if connection is not None and connection.is_open:
            return connection
        if entry.opening is None:
            entry.opening = asyncio.Lock()
        async with entry.opening:  # one connection attempt at a time per URL
            connection = entry.connection
            if connection is not None and connection.is_open:
                return connection
            if connection is not None:
                entry.connection = None
                await _close_quietly(connection)
            now = time.monotonic()
            if entry.last_error is not None and now < entry.retry_at:
                wait = entry.retry_at - now
                raise BrokerError(
                    entry.last_error.error_class,
                    f"{entry.last_error} (the next connection attempt is in {wait:.1f} s)",
                )
            remaining = deadline - asyncio.get_running_loop().time() - _MARGIN
            try:
                entry.connection = await asyncio.wait_for(self._open(entry), max(remaining, 0))
            except Exception as exc:
                if isinstance(exc, BrokerError):
                    error = exc
                elif isinstance(exc, TimeoutError):
                    error = BrokerError("timeout", "the broker did not complete the connection")
                else:
                    error = BrokerError(classify(exc), describe_error(exc))
                entry.failures += 1
                backoff = min(_FIRST_BACKOFF * 2 ** (entry.failures - 1), _MAX_BACKOFF)
                entry.retry_at = time.monotonic() + backoff
                entry.last_error = BrokerError(error.error_class, self._scrub(entry, str(error)))
                raise entry.last_error from None
            entry.failures, entry.last_error = 0, None
            return entry.connection

    async def _open(self, entry: _Entry) -> Connection:
        try:
            connect = connector(entry.kind)
        except ImportError:
            extra = EXTRAS[entry.kind][1]
            raise BrokerError(
                "invalid_request",
                f"the {entry.kind} client library is not installed:"
                f" pip install 'hookline[{extra}]'",
            ) from None
        host, port = host_and_port(entry.kind, entry.url)
        address = await self._checked_address(host, port)
        url = entry.url if uses_tls(entry.kind, entry.url) else with_host(entry.url, address)
        return await connect(url, timeout=_CONNECT_TIMEOUT, verify_tls=self._verify_tls)

    async def _checked_address(self, host: str, port: int) -> str:
        """The address to dial for ``host``: the first answer the policy allows."""
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            self._policy.check(literal)
            return host
        check_literal_host(host, self._policy)  # numeric forms such as 0x7f000001
        loop = asyncio.get_running_loop()
        answers = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [str(a[4][0]) for a in answers]
        for address in addresses:
            if self._policy.is_allowed(address):
                return address
        self._policy.check(addresses[0])  # raises BlockedAddress with the reason
        raise BrokerError("dns", f"{host} resolved to no address")

    async def _drop(self, entry: _Entry, connection: Connection) -> None:
        if entry.connection is connection:
            entry.connection = None
        await _close_quietly(connection)

    def _failed(
        self, entry: _Entry, started: float, error_class: str, message: str
    ) -> PublishResult:
        return PublishResult(None, _ms(started), error_class, self._scrub(entry, message))

    @staticmethod
    def _scrub(entry: _Entry, text: str) -> str:
        """``text`` without the URL's password (a library may quote the URL it dialled)."""
        _, password = credentials(entry.url)
        if password:
            text = text.replace(password, MASK)
            quoted = entry.url.split("@", 1)[0].rpartition(":")[2]
            if quoted:
                text = text.replace(quoted, MASK)
        return text

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(min(_SWEEP_SECONDS, self._idle))
            cutoff = time.monotonic() - self._idle
            for key, entry in list(self._entries.items()):
                if entry.last_used < cutoff and not (entry.opening and entry.opening.locked()):
                    del self._entries[key]
                    if entry.connection is not None:
                        log.info("closing an idle %s connection", entry.kind)
                        await _close_quietly(entry.connection)


_CONNECT_TIMEOUT = 10.0


async def _close_quietly(connection: Connection) -> None:
    try:
        await asyncio.wait_for(connection.close(), 5.0)
    except Exception as exc:  # closing a broken connection may fail; it is gone either way
        log.debug("closing a broker connection failed: %s", exc)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
