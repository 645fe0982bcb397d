"""What every broker publisher shares: the message to publish, the broker's answer, the errors.

A publisher module per kind (:mod:`.rabbitmq`, :mod:`.nats`, :mod:`.redis_streams`,
:mod:`.mqtt`) has one coroutine, ``connect(url, *, timeout, verify_tls)``, that opens a
:class:`Connection` to the broker ``url`` names (the pool has already checked its host against
the address policy and, for a plain connection, replaced it with the address to dial). A
connection publishes any number of messages, concurrently, until it is closed or breaks.

``Connection.publish`` returns the broker's acknowledgement as text (what the attempt log
shows as the response: ``ack``, ``stream EVENTS seq 42``, the ``XADD`` entry id, ``PUBACK``)
only once the broker has taken responsibility for the message, and raises
:class:`BrokerError` with an error class otherwise. Any other exception is classified by the
pool (:func:`classify`): timeouts, refused connections, TLS failures.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Mapping
from typing import Protocol

from hookline.domain.address_policy import BlockedAddress
from hookline.domain.destinations import BrokerAction
from hookline.domain.records import record

#: Error classes a broker attempt can end with, besides the HTTP ones it shares (``connect``,
#: ``dns``, ``tls``, ``timeout``, ``blocked``, ``protocol``, ``invalid_request``).
BROKER_ERRORS = frozenset({"auth", "unroutable", "no_stream", "nacked", "refused"})


@record
class BrokerMessage:
    """One message to publish: the body exactly as an HTTP attempt would send it, the headers
    (signatures, event id and type, delivery id, attempt number, custom headers) and the
    rendered target (routing key, subject, stream or topic)."""

    kind: str
    action: BrokerAction
    target: str
    body: bytes
    headers: Mapping[str, str]
    content_type: str
    message_id: str
    timeout: float


@record
class PublishResult:
    """What became of one message: the broker's acknowledgement, or why there was none."""

    answer: str | None
    duration_ms: float
    error_class: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_class is None


class BrokerError(Exception):
    """A publish the broker refused or could not take: ``error_class`` for the attempt log
    and retry policy; ``drop`` when the connection is no longer usable and must be reopened."""

    def __init__(self, error_class: str, message: str, *, drop: bool = False) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.drop = drop


class Connection(Protocol):
    """An open connection to one broker URL (see the module)."""

    @property
    def is_open(self) -> bool: ...

    async def publish(self, message: BrokerMessage) -> str: ...

    async def close(self) -> None: ...


class Connector(Protocol):
    async def __call__(self, url: str, *, timeout: float, verify_tls: bool) -> Connection: ...


def classify(exc: BaseException) -> str:
    """The error class of an exception a library raised (not a :class:`BrokerError`)."""
    if isinstance(exc, BrokerError):
        return exc.error_class
    if isinstance(exc, BlockedAddress):
        return "blocked"
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timeout"
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "tls"
    if isinstance(exc, ConnectionError | OSError):
        return "connect"
    return "protocol"


def describe_error(exc: BaseException) -> str:
    """Short text for an exception, never a URL's credentials (libraries may print the URL)."""
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]
