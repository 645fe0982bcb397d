"""Publishing to NATS JetStream (``nats-py``): a delivery succeeds on the stream's ack.

A message is published to the rendered subject with the delivery's headers as NATS headers
(the body exactly as signed, so a consumer verifies ``webhook-signature`` & co. from what it
receives), and counts as delivered only when the JetStream stream that captures the subject
acknowledges it. The attempt log shows the acknowledgement as ``stream EVENTS seq 42``, with
``(duplicate)`` when the stream reported the message as one it already held (only when the
action's custom headers set ``Nats-Msg-Id``). What can go wrong, by error class:

``no_stream``  no stream captures the subject (the server answered "no responders"), or
               JetStream is not enabled on the server; retried, so creating the stream lets
               the next attempt through
``refused``    the stream answered with an error (limits reached with the ``discard new``
               policy, a sealed stream …), the message exceeds the server's ``max_payload``,
               or the user's permissions deny publishing to the subject (or subscribing to
               the reply subject the acknowledgement comes back on, ``_INBOX.>``)
``auth``       the server refused the URL's credentials (``nats://user:pass@…``, or
               ``nats://token@…`` for a token)
``connect``    refused, or the connection closed before the ack came (it is reopened by the
               next publish)
``timeout``    no ack within the action's timeout (the connection is reopened as well: a
               connection that stopped answering is not trusted with the next message)

**Permissions.** The server reports a denied publish or subscription asynchronously, as an
error for the subject, and never answers the request: the publishes waiting on that subject
(all of them, for a denied reply subject) fail at once instead of waiting for their timeout.
The server lowercases the subject in that report, so a denial also fails the publishes waiting
on subjects that differ from it only in case (their retries tell them apart).

**One address.** ``nats-py`` learns other cluster members from the server's ``INFO`` and adds
them to its server pool, but only its reconnect logic ever dials that pool, and reconnecting
is off (the pool of :mod:`.pool` reopens a connection itself, to the address it has checked
against the outgoing-address policy). So the client dials the one address it is given; no
server the broker advertises is contacted. ``max_reconnect_attempts=1`` with no wait is the
smallest setting that makes ``nats-py`` give up on a refused address: with ``0`` it retries the
initial connection for ever (it tries the address twice, at once).

**No de-duplication id.** Nothing sets ``Nats-Msg-Id``: at-least-once is the contract of every
Hookline destination, and the signature headers (``webhook-id``, ``X-Hookline-Delivery-Id``)
let a consumer drop a repeat. An id per delivery would make JetStream silently swallow a
deliberate re-send within the stream's duplicate window (and report it as delivered); one per
attempt would never match anything. An action that wants JetStream's de-duplication can set
the header among its custom headers, which are published as given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Iterator
from typing import Any, Final

import nats.errors
import nats.js.errors
from nats.aio.client import Client

from hookline.delivery.destinations.base import BrokerError, BrokerMessage, classify
from hookline.domain.destinations import credentials, host_and_port, uses_tls

__all__ = ["NatsConnection", "connect"]

log = logging.getLogger(__name__)

_CONNECTION_GONE = (
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionDrainingError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
)


_DENIED: Final = re.compile(r'permissions violation for (publish|subscription) to "([^"]*)"')


class _Watch:
    """What the client reports through its callbacks: that the connection is gone, the last
    error, and permission denials (sent to the publishes waiting on the denied subject)."""

    def __init__(self) -> None:
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.last_error: Exception | None = None
        self._waiting: dict[str, set[asyncio.Future[tuple[str, bool]]]] = {}

    async def on_error(self, exc: Exception) -> None:
        self.last_error = exc
        log.debug("NATS client error: %s", exc)
        found = _DENIED.search(str(exc))
        if found is None:
            return
        kind, subject = found.groups()
        everyone = kind == "subscription"  # the reply subject: no acknowledgement can come back
        waiting = (
            [w for group in self._waiting.values() for w in group]
            if everyone
            else list(self._waiting.get(subject, ()))
        )
        for waiter in waiting:
            if not waiter.done():
                waiter.set_result((str(exc), everyone))

    async def on_closed(self) -> None:
        if not self.lost.done():
            self.lost.set_result(None)

    @contextlib.contextmanager
    def denial(self, subject: str) -> Iterator[asyncio.Future[tuple[str, bool]]]:
        """A future of the denial of a publish to ``subject`` (the server's text, and whether
        it denied the reply subject), for as long as the publish waits."""
        key = subject.lower()
        waiter: asyncio.Future[tuple[str, bool]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, set()).add(waiter)
        try:
            yield waiter
        finally:
            group = self._waiting.get(key)
            if group is not None:
                group.discard(waiter)
                if not group:
                    del self._waiting[key]


class NatsConnection:
    """One connection to a NATS server, publishing to JetStream (see the module)."""

    def __init__(self, client: Client, watch: _Watch) -> None:
        self._nc = client
        self._js = client.jetstream()
        self._watch = watch

    @property
    def is_open(self) -> bool:
        return bool(self._nc.is_connected) and not self._watch.lost.done()

    async def publish(self, message: BrokerMessage) -> str:
        if not self.is_open:
            raise BrokerError("connect", "the connection to the NATS server is closed", drop=True)
        subject = message.target
        request = asyncio.ensure_future(
            self._js.publish(
                subject, message.body, timeout=message.timeout, headers=dict(message.headers)
            )
        )
        with self._watch.denial(subject) as denied:
            try:
                # nats-py leaves a request waiting for its timeout when the connection closes
                # or the server denies it: give up on it as soon as either is known.
                await asyncio.wait(
                    (request, denied, self._watch.lost), return_when=asyncio.FIRST_COMPLETED
                )
            except BaseException:
                request.cancel()
                raise
        if not request.done():
            request.cancel()
            if denied.done():
                text, everyone = denied.result()
                raise BrokerError("refused", f"the NATS server denied it: {text}", drop=everyone)
            raise BrokerError(
                "connect",
                "the connection to the NATS server closed before JetStream acknowledged the"
                " message",
                drop=True,
            )
        return _answer(request, message, self._nc.max_payload)

    async def close(self) -> None:
        await self._nc.close()


def _answer(request: asyncio.Future[Any], message: BrokerMessage, max_payload: int) -> str:
    """The acknowledgement of a finished publish as text, or its failure as a BrokerError."""
    subject = message.target
    try:
        ack = request.result()
    except nats.js.errors.NoStreamResponseError:
        raise BrokerError(
            "no_stream",
            f"no JetStream stream captures subject {subject!r} (or JetStream is not enabled"
            " on the server)",
        ) from None
    except nats.js.errors.APIError as exc:
        raise BrokerError("refused", f"JetStream refused the message: {_api_error(exc)}") from None
    except nats.errors.MaxPayloadError:
        raise BrokerError(
            "refused",
            f"the message ({len(message.body)} bytes) is larger than the server's max_payload"
            f" ({max_payload} bytes)",
        ) from None
    except nats.errors.BadSubjectError:
        raise BrokerError("invalid_request", f"{subject!r} is not a valid subject") from None
    except nats.errors.TimeoutError:
        raise BrokerError(
            "timeout", f"no JetStream acknowledgement within {message.timeout:g} s", drop=True
        ) from None
    except _CONNECTION_GONE as exc:
        raise BrokerError("connect", f"the connection is unusable: {exc}", drop=True) from None
    duplicate = " (duplicate)" if ack.duplicate else ""
    return f"stream {ack.stream} seq {ack.seq}{duplicate}"


async def connect(url: str, *, timeout: float, verify_tls: bool) -> NatsConnection:
    """Open a connection to the NATS server ``url`` names (nats:// or tls://)."""
    watch = _Watch()
    client = Client()
    try:
        async with asyncio.timeout(timeout):
            await client.connect(**_options(url, timeout, verify_tls, watch))
    except BaseException as exc:
        await _abandon(client)
        if isinstance(exc, Exception):
            raise _connect_error(exc, watch.last_error, timeout) from None
        raise
    return NatsConnection(client, watch)


def _options(url: str, timeout: float, verify_tls: bool, watch: _Watch) -> dict[str, Any]:
    """``Client.connect``'s arguments: the address alone, credentials given apart from it."""
    host, port = host_and_port("nats", url)
    tls = uses_tls("nats", url)
    shown = f"[{host}]" if ":" in host else host
    options: dict[str, Any] = {
        "servers": [f"{'tls' if tls else 'nats'}://{shown}:{port}"],
        "name": "hookline",
        "connect_timeout": timeout,
        "allow_reconnect": False,
        "max_reconnect_attempts": 1,
        "reconnect_time_wait": 0,
        "dont_randomize": True,
        "error_cb": watch.on_error,
        "disconnected_cb": watch.on_closed,
        "closed_cb": watch.on_closed,
    }
    user, password = credentials(url)
    if user is not None and password is None:
        options["token"] = user  # nats://token@host, as other NATS clients read it
    elif user is not None or password is not None:
        options["user"], options["password"] = user or "", password or ""
    if tls:
        context = ssl.create_default_context()
        if not verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        options["tls"] = context
    return options


def _connect_error(exc: Exception, reported: Exception | None, timeout: float) -> BrokerError:
    """The error class and text of a failed connection attempt."""
    if isinstance(exc, nats.errors.NoServersError) and reported is not None:
        exc_or_cause: BaseException = reported  # nats-py reports the real cause to error_cb
    else:
        exc_or_cause = exc
    text = str(exc_or_cause) or type(exc_or_cause).__name__
    if isinstance(exc_or_cause, nats.errors.AuthorizationError) or (
        isinstance(exc_or_cause, nats.errors.Error)
        and any(word in text.lower() for word in ("authoriz", "authentic"))
    ):
        return BrokerError("auth", f"the NATS server refused the credentials ({text})")
    if isinstance(exc_or_cause, TimeoutError):
        return BrokerError("timeout", f"no connection to the NATS server within {timeout:g} s")
    error_class = classify(exc_or_cause)
    return BrokerError(error_class, f"cannot connect to the NATS server: {text}")


def _api_error(exc: nats.js.errors.APIError) -> str:
    description = exc.description or "no description"
    codes = ", ".join(
        f"{name} {value}"
        for name, value in (("code", exc.code), ("err_code", exc.err_code))
        if value
    )
    return f"{description} ({codes})" if codes else description


async def _abandon(client: Client) -> None:
    """Close a client whose connection attempt failed (it may hold a half-open socket)."""
    try:
        await asyncio.wait_for(client.close(), 2.0)
    except Exception as exc:  # it is being thrown away
        log.debug("closing a failed NATS connection: %s", exc)
