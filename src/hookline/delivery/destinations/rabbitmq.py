"""Publishing to RabbitMQ (AMQP 0-9-1, with aio-pika): a message counts as delivered only when
the broker confirms it.

One connection per broker URL (the pool's), and on it one channel in confirm mode. Every
message is published ``mandatory`` to the action's exchange (``''`` is the default exchange,
where the routing key names a queue) with the rendered routing key, and its publish waits for
the broker's answer:

* ``basic.ack``: the broker has the message (persistent, so a durable queue keeps it across a
  broker restart). The attempt log shows ``ack (confirmed by the broker)``.
* ``basic.return``: no queue is bound to the exchange with that routing key, so the message
  went nowhere: error class ``unroutable``, retried on the action's schedule (bind a queue and
  the next attempt succeeds).
* ``basic.nack``: the broker would not take it (a queue full with ``x-overflow:
  reject-publish``, an internal error): ``nacked``.

A message carries the body bytes unchanged and the attempt's headers (signatures, event id
and type, delivery id, attempt number, custom headers) as AMQP headers, so a consumer verifies
it with ``hookline.verify`` or ``standardwebhooks`` from what it receives. Its properties:
``content_type``, ``message_id`` (the event id: the same for every attempt, for consumers that
drop duplicates), ``delivery_mode`` persistent, and ``timestamp``.

An exchange that does not exist makes RabbitMQ close the channel (404 ``NOT_FOUND``): the
attempt fails as ``unroutable``, saying so, and the next publish opens a new channel on the same
connection. Publishes that were in flight on the closed channel fail as ``connect`` and are
retried. A connection the broker closes, or that breaks, fails its publishes as ``connect`` and
is dropped; the pool opens a new one for the next attempt. Nothing is republished here: a
publish whose confirm was lost is a failed attempt, and the delivery's retry schedule sends it
again (at least once, never silently twice within one attempt).

Refused logins are ``auth``, as is a virtual host the broker will not open (it does not exist
or the user may not use it); a broker that cannot be reached is ``connect``; a failed TLS
handshake is ``tls``. The connection is a plain one, not aio-pika's "robust" kind: reconnecting
is the pool's job, so that a broken connection is seen, logged and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import unquote, urlsplit

import aio_pika
import aiormq.exceptions
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange
from pamqp import commands as spec

from hookline.delivery.destinations.base import BrokerError, BrokerMessage, Connection
from hookline.domain.destinations import RabbitMQAction

__all__ = ["RabbitMQConnection", "connect"]

_ACK: Final = "ack (confirmed by the broker)"
_CONNECTION_NAME: Final = "hookline"


async def connect(url: str, *, timeout: float, verify_tls: bool) -> Connection:
    """Open a connection and a confirm-mode channel to the broker ``url`` names."""
    context: ssl.SSLContext | None = None
    if urlsplit(url).scheme == "amqps":
        context = ssl.create_default_context()
        if not verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    connection: AbstractConnection | None = None
    try:
        async with asyncio.timeout(timeout):
            connection = await aio_pika.connect(
                url,
                timeout=timeout,
                ssl_context=context,
                client_properties={"connection_name": _CONNECTION_NAME},
            )
            opened = RabbitMQConnection(connection)
            await opened.open_channel()
    except BaseException as exc:
        if connection is not None and not connection.is_closed:
            with contextlib.suppress(Exception):
                await connection.close()
        if isinstance(exc, TimeoutError):
            raise BrokerError(
                "timeout", f"no answer from the broker within {timeout:g} s"
            ) from None
        if isinstance(exc, Exception):
            raise _connect_error(exc, url) from None
        raise
    return opened


@dataclass(slots=True)
class _Channel:
    """The confirm-mode channel publishes go through, and the exchanges looked up on it."""

    channel: AbstractChannel
    exchanges: dict[str, AbstractExchange] = field(default_factory=dict)

    async def exchange(self, name: str) -> AbstractExchange:
        """The exchange ``name`` (``''``: the default one), not checked for existence: a
        passive declare of a missing exchange would close the channel just as a publish does."""
        found = self.exchanges.get(name)
        if found is None:
            found = (
                self.channel.default_exchange
                if name == ""
                else await self.channel.get_exchange(name, ensure=False)
            )
            self.exchanges[name] = found
        return found


class RabbitMQConnection:
    """One AMQP connection and its publishing channel (see the module)."""

    def __init__(self, connection: AbstractConnection) -> None:
        self._connection = connection
        self._channel: _Channel | None = None
        self._opening = asyncio.Lock()
        # aio-pika matches a returned message to its publish by message id, so two publishes
        # in flight with the same id (one event to two actions on this broker) could be
        # confused: they wait for each other instead.
        self._in_flight: dict[str, asyncio.Future[None]] = {}

    @property
    def is_open(self) -> bool:
        connection = self._connection
        return not connection.is_closed and connection.connected.is_set()

    async def open_channel(self) -> _Channel:
        """The publishing channel, opened anew when the broker has closed the last one."""
        current = self._channel
        if current is not None and not current.channel.is_closed:
            return current
        async with self._opening:
            current = self._channel
            if current is not None and not current.channel.is_closed:
                return current
            channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
            self._channel = _Channel(channel)
            return self._channel

    async def publish(self, message: BrokerMessage) -> str:
        action = message.action
        assert isinstance(action, RabbitMQAction), "a rabbitmq message has a rabbitmq action"
        exchange = action.exchange
        amqp_message = aio_pika.Message(
            message.body,
            headers=dict(message.headers),
            content_type=message.content_type,
            message_id=message.message_id,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            timestamp=time.time(),
        )
        async with self._exclusive(message.message_id):
            try:
                channel = await self.open_channel()
                target = await channel.exchange(exchange)
                await target.publish(amqp_message, message.target, mandatory=True)
            except Exception as exc:
                raise _publish_error(exc, exchange, connection_usable=self.is_open) from None
        return _ACK

    async def close(self) -> None:
        if not self._connection.is_closed:
            await self._connection.close()

    @contextlib.asynccontextmanager
    async def _exclusive(self, message_id: str) -> AsyncIterator[None]:
        """Hold ``message_id`` for one publish at a time on this connection."""
        while (busy := self._in_flight.get(message_id)) is not None:
            await asyncio.wait({busy})  # never cancels the other publish's future
        done = asyncio.get_running_loop().create_future()
        self._in_flight[message_id] = done
        try:
            yield
        finally:
            del self._in_flight[message_id]
            done.set_result(None)


def _connect_error(exc: BaseException, url: str) -> BrokerError:
    """The error class and text for a connection the broker or the network refused."""
    if isinstance(exc, BrokerError):
        return exc
    if isinstance(
        exc, aiormq.exceptions.ProbableAuthenticationError | aiormq.exceptions.AuthenticationError
    ):
        return BrokerError("auth", f"the broker refused the login: {_reply(exc)}")
    if isinstance(exc, aiormq.exceptions.InvalidFrameError) and "Connection.Close" in str(exc):
        # RabbitMQ answers Connection.Open with Connection.Close (530 NOT_ALLOWED) when the
        # virtual host is missing or the user may not use it; aiormq reports the frame only.
        vhost = unquote(urlsplit(url).path[1:]) or "/"
        return BrokerError(
            "auth",
            f"the broker refused to open virtual host {vhost!r}"
            " (it does not exist, or the user has no permissions on it)",
        )
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, ssl.SSLError) or isinstance(cause, ssl.SSLError | ssl.CertificateError):
        return BrokerError("tls", f"TLS handshake with the broker failed: {cause or exc}")
    if isinstance(exc, aiormq.exceptions.ConnectionClosed):
        return BrokerError("connect", f"the broker closed the connection: {_reply(exc)}")
    if isinstance(exc, ConnectionError | OSError):
        reason = exc.args[1] if len(exc.args) > 1 else _reply(exc)
        return BrokerError("connect", f"cannot connect to the broker: {reason}")
    if isinstance(exc, aiormq.exceptions.AMQPError):
        return BrokerError("protocol", f"unexpected answer from the broker: {_reply(exc)}")
    return BrokerError("protocol", f"{type(exc).__name__}: {exc}")


def _publish_error(
    exc: BaseException, exchange: str | None, *, connection_usable: bool
) -> BrokerError:
    """The error class and text for a publish the broker did not confirm."""
    drop = not connection_usable
    if isinstance(exc, aiormq.exceptions.DeliveryError):
        return _refusal(exc)
    if isinstance(exc, aiormq.exceptions.ChannelClosed):
        return _channel_closed(exc, exchange, drop=drop)
    if isinstance(exc, aiormq.exceptions.ChannelInvalidStateError):
        what = "channel" if connection_usable else "connection"
        return BrokerError(
            "connect", f"the {what} closed before the broker confirmed the message", drop=drop
        )
    if isinstance(exc, aiormq.exceptions.ConnectionClosed):
        return BrokerError("connect", f"the broker closed the connection: {_reply(exc)}", drop=True)
    if isinstance(exc, ConnectionError | OSError):
        return BrokerError("connect", f"the connection to the broker broke: {exc}", drop=True)
    if isinstance(exc, ValueError):  # aiormq checks the routing key before sending
        return BrokerError("invalid_request", f"cannot publish: {exc}")
    if isinstance(exc, aiormq.exceptions.AMQPError):
        return BrokerError(
            "protocol", f"unexpected answer from the broker: {_reply(exc)}", drop=True
        )
    return BrokerError("protocol", f"{type(exc).__name__}: {exc}", drop=True)


def _refusal(exc: aiormq.exceptions.DeliveryError) -> BrokerError:
    """A publish the broker answered, but not with an ack: returned or nacked."""
    frame = exc.frame
    if isinstance(frame, spec.Basic.Return):
        return BrokerError("unroutable", _unroutable(frame))
    if isinstance(frame, spec.Basic.Nack):
        return BrokerError(
            "nacked",
            "the broker refused the message (basic.nack): a queue it routes to may be full"
            " (x-overflow reject-publish) or the broker could not store it",
        )
    return BrokerError("protocol", f"the broker answered the publish with {frame.name}")


def _channel_closed(
    exc: aiormq.exceptions.ChannelClosed, exchange: str | None, *, drop: bool
) -> BrokerError:
    """A publish whose channel the broker closed: because of this message's exchange, or of
    another message's (then this one is merely caught in it, and retried)."""
    text = _reply(exc)
    if isinstance(exc, aiormq.exceptions.ChannelNotFoundEntity):
        if exchange and f"no exchange '{exchange}'" in text:
            return BrokerError(
                "unroutable", f"exchange {exchange!r} does not exist ({text})", drop=drop
            )
        return BrokerError(
            "connect", f"the channel closed before the broker confirmed: {text}", drop=drop
        )
    if isinstance(exc, aiormq.exceptions.ChannelAccessRefused):
        return BrokerError("auth", f"the broker refused the publish: {text}", drop=drop)
    return BrokerError("protocol", f"the broker closed the channel: {text}", drop=drop)


def _unroutable(frame: spec.Basic.Return) -> str:
    answer = f"{frame.reply_code} {frame.reply_text}"
    if not frame.exchange:
        return (
            f"unroutable: no queue named {frame.routing_key!r} (the default exchange routes by"
            f" queue name; the broker returned the message: {answer})"
        )
    return (
        f"unroutable: no queue is bound to exchange {frame.exchange!r} with routing key"
        f" {frame.routing_key!r} (the broker returned the message: {answer})"
    )


def _reply(exc: BaseException) -> str:
    """The broker's reply text an aiormq exception carries (``NOT_FOUND - no exchange …``)."""
    args = [a for a in exc.args if isinstance(a, str)]
    return args[-1] if args else str(exc) or type(exc).__name__
