"""Appending to a Redis stream (with redis-py's asyncio client): a message counts as delivered
when ``XADD`` answers with the new entry's id.

Each message becomes one stream entry::

    XADD <stream> [MAXLEN ~ <maxlen>] * body <body bytes> <header> <value> ...

The field ``body`` holds the body bytes unchanged; every header of the attempt (signatures,
event id and type, delivery id, attempt number, ``Content-Type``, custom headers) follows as a
field of its own, under its name as sent, so a consumer reads ``body`` and the headers from
the entry and verifies the signature with ``hookline.verify`` or ``standardwebhooks``. The
name ``body`` is therefore taken: a custom header named exactly ``body`` (Redis field names are
case-sensitive, so ``Body`` is another field) cannot be sent, and such a message fails as
``invalid_request`` rather than losing either value. With ``maxlen`` set, the stream is
trimmed to about that many entries (``MAXLEN ~``, which Redis does cheaply, whole macro nodes
at a time, so a stream may hold a little more).

The attempt log's response is the entry id (``1712345678901-0``).

A connection is a small pool of sockets to one server (concurrent publishes do not queue
behind one another), checked with ``PING`` when opened so that a refused login fails then, as
``auth``, and not on the first message. A user allowed nothing but ``XADD`` is enough: a
``PING`` refused for want of permission still proves the login. The URL's query string is
ignored: only the scheme, credentials, host, port and database number are used, so a URL
cannot switch off TLS checks or point the client at files on this machine.

Nothing is retried inside the client: redis-py's own retries are off, because a retried
``XADD`` whose reply was lost would append the entry twice. A failed ``XADD`` is a failed
attempt (``connect`` when the socket broke, and the connection is then reopened), and the
delivery's retry schedule sends it again; an entry whose reply was cut off may then be in the
stream twice (at least once, as with every destination). A socket the server closed while idle
is replaced before a command is written on it, so that costs no attempt.

Refusals the server answers with: ``auth`` for a refused login or a user without permission
to ``XADD`` the key, ``refused`` for a key that holds another type, a server out of memory or
a read-only replica.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.typing import EncodableT, FieldT

from hookline.delivery.destinations.base import BrokerError, BrokerMessage, Connection
from hookline.domain.destinations import RedisAction

__all__ = ["RedisConnection", "connect"]

#: Sockets per server: enough that hundreds of concurrent publishes keep them all busy
#: (each waits its turn for a free one, within its attempt's timeout).
_MAX_SOCKETS: Final = 16
_BODY_FIELD: Final = "body"


async def connect(url: str, *, timeout: float, verify_tls: bool) -> Connection:
    """Open a connection to the server ``url`` names and check it (and the login) with PING."""
    parts = urlsplit(url)
    plain = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    options: dict[str, Any] = {}
    if parts.scheme == "rediss" and not verify_tls:
        options = {"ssl_cert_reqs": "none", "ssl_check_hostname": False}
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        plain,
        max_connections=_MAX_SOCKETS,
        timeout=None,  # waiting for a free socket is bounded by the attempt's timeout
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        **options,
    )
    client = redis.asyncio.Redis.from_pool(pool)
    try:
        async with asyncio.timeout(timeout):
            await client.ping()
    except redis.exceptions.NoPermissionError:
        pass  # logged in; the user may XADD without being allowed PING
    except BaseException as exc:
        await client.aclose()
        if isinstance(exc, Exception):
            raise _connect_error(exc, timeout) from None
        raise
    return RedisConnection(client)


class RedisConnection:
    """A checked client for one Redis server (see the module)."""

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self._client = client
        self._usable = True

    @property
    def is_open(self) -> bool:
        return self._usable

    async def publish(self, message: BrokerMessage) -> str:
        action = message.action
        assert isinstance(action, RedisAction), "a redis message has a redis action"
        if _BODY_FIELD in message.headers:
            raise BrokerError(
                "invalid_request",
                f"a header named {_BODY_FIELD!r} cannot be sent: the stream entry's"
                f" {_BODY_FIELD!r} field holds the body",
            )
        fields: dict[FieldT, EncodableT] = {_BODY_FIELD: message.body}
        fields.update(message.headers)
        try:
            entry_id = await self._client.xadd(
                message.target, fields, maxlen=action.maxlen, approximate=True
            )
        except redis.exceptions.RedisError as exc:
            error = _publish_error(exc, message.target)
            if error.drop:
                self._usable = False
            raise error from None
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    async def close(self) -> None:
        self._usable = False
        await self._client.aclose()


def _connect_error(exc: Exception, timeout: float) -> BrokerError:
    """The error class and text for a server that could not be reached or refused the login."""
    if isinstance(exc, redis.exceptions.AuthenticationError | redis.exceptions.AuthorizationError):
        return BrokerError("auth", f"the server refused the login: {exc}")
    if isinstance(exc, TimeoutError | redis.exceptions.TimeoutError):
        return BrokerError("timeout", f"no answer from the server within {timeout:g} s")
    if isinstance(exc, redis.exceptions.ResponseError):
        if "password" in str(exc):  # AUTH to a server without passwords
            return BrokerError("auth", f"the server refused the login: {exc}")
        return BrokerError("refused", f"the server refused the connection: {exc}")
    if _is_tls(exc):
        return BrokerError("tls", f"TLS handshake with the server failed: {exc}")
    if isinstance(exc, redis.exceptions.ConnectionError | OSError):
        return BrokerError("connect", f"cannot connect to the server: {exc}")
    return BrokerError("protocol", f"{type(exc).__name__}: {exc}")


def _publish_error(exc: redis.exceptions.RedisError, stream: str) -> BrokerError:
    """The error class and text for an ``XADD`` that did not answer with an entry id."""
    if isinstance(exc, redis.exceptions.AuthenticationError | redis.exceptions.AuthorizationError):
        return BrokerError("auth", f"the server refused the login: {exc}", drop=True)
    if isinstance(exc, redis.exceptions.NoPermissionError):
        return BrokerError("auth", f"the server refused XADD to {stream!r}: {exc}")
    if isinstance(exc, redis.exceptions.ConnectionError):
        return BrokerError(
            "connect", f"the connection broke before the server answered: {exc}", drop=True
        )
    if isinstance(exc, redis.exceptions.TimeoutError):
        return BrokerError("timeout", f"no answer from the server: {exc}", drop=True)
    if isinstance(exc, redis.exceptions.ResponseError):
        text = str(exc)
        if text.startswith("WRONGTYPE"):
            return BrokerError("refused", f"key {stream!r} holds another type than a stream")
        return BrokerError("refused", f"the server refused XADD to {stream!r}: {text}")
    return BrokerError("protocol", f"unexpected answer from the server: {exc}", drop=True)


def _is_tls(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc.__context__
    return isinstance(exc, ssl.SSLError) or isinstance(cause, ssl.SSLError) or "[SSL" in str(exc)
