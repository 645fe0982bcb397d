"""Publishing to an MQTT 5 broker (``aiomqtt``): a delivery succeeds on PUBACK or PUBCOMP.

A message is published to the rendered topic at the action's QoS (1 or 2), with its
``retain`` flag, the delivery's headers as MQTT 5 user properties (so a consumer verifies
``webhook-signature`` & co. from what it receives, the payload exactly as signed) and the
content type as the ``Content Type`` property. It counts as delivered only when the broker
acknowledges it: PUBACK for QoS 1, PUBCOMP for QoS 2, as the attempt log shows. An
acknowledgement with a success reason code other than 0 is shown beside it, e.g.
``PUBACK (No matching subscribers)``: the broker took the message but nobody was subscribed
(it is kept only if ``retain`` is set). What can go wrong, by error class:

``refused``  the acknowledgement carries a failure reason code (0x80 and above: not
             authorized by the broker's ACL, quota exceeded, payload format invalid …)
``auth``     the broker refused the connection for its credentials (CONNACK "Bad user name or
             password", "Not authorized", "Bad authentication method")
``connect``  refused, or the connection closed before the acknowledgement (it is reopened by
             the next publish)

Each connection has its own client identifier (``hookline-`` and random hex), starts clean and
keeps no session: a message whose acknowledgement was lost with the connection is published
again by the delivery's retry, never resent by the client on its own. The URL's user name and
password (``mqtt://user:pass@host``) are the CONNECT credentials.

**In flight.** At most 20 QoS 1/2 messages per connection await their acknowledgement, fewer
when the broker's CONNACK announces a lower Receive Maximum (a broker may close a connection
that exceeds it); further publishes queue in the client and go out as acknowledgements return.

**Reason codes.** ``aiomqtt`` waits for the acknowledgement but drops its reason code, and
``paho-mqtt`` (beneath it) ignores the reason code of PUBREC, the first answer to a QoS 2
publish, then completes the exchange with PUBCOMP whatever it said: a broker that refuses a
QoS 2 message says so only in PUBREC. So :class:`_Client` publishes through ``paho-mqtt``
itself, takes the reason code of every PUBACK and PUBCOMP from its ``on_publish`` callback, and
reads the one of PUBREC as ``paho-mqtt`` receives it (the byte after the packet identifier).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import ssl
from collections.abc import Callable
from typing import Any, Final

import aiomqtt
import paho.mqtt.client as paho
from aiomqtt.exceptions import MqttConnectError
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from hookline.delivery.destinations.base import BrokerError, BrokerMessage, classify
from hookline.domain.destinations import MqttAction, credentials, host_and_port, uses_tls

__all__ = ["MqttConnection", "connect"]

log = logging.getLogger(__name__)

#: CONNACK reason codes that mean the credentials were refused (MQTT 5; MQTT 3's 4 and 5 are
#: reported as 0x86 and 0x87 by paho-mqtt).
_AUTH_REFUSALS: Final = frozenset({0x86, 0x87, 0x8C})
_UNSUPPORTED_PROTOCOL: Final = 0x84
_FAILURE: Final = 0x80
_IN_FLIGHT: Final = 20  # QoS 1/2 messages awaiting their acknowledgement, at most


class _Client(aiomqtt.Client):
    """``aiomqtt``'s client, publishing with the broker's reason code as the outcome."""

    def __init__(self, *args: Any, connect_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client.connect_timeout = connect_timeout
        self._client.max_inflight_messages_set(_IN_FLIGHT)
        self._acks: dict[int, asyncio.Future[ReasonCode]] = {}
        self._watch_pubrec()

    @property
    def is_connected(self) -> bool:
        return (
            self._connected.done()
            and not self._connected.cancelled()
            and self._connected.exception() is None
            and not self._disconnected.done()
        )

    @property
    def disconnected(self) -> asyncio.Future[None]:
        """Done once the connection is gone (with the reason as its exception, if any)."""
        return self._disconnected

    def send(
        self, topic: str, payload: bytes, qos: int, retain: bool, properties: Properties
    ) -> tuple[int, asyncio.Future[ReasonCode]]:
        """Publish; the message id and a future of the acknowledgement's reason code."""
        info = self._client.publish(topic, payload, qos, retain, properties)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            gone = info.rc in (paho.MQTT_ERR_NO_CONN, paho.MQTT_ERR_CONN_LOST)
            raise BrokerError(
                "connect" if gone else "protocol",
                f"the message could not be published: {paho.error_string(info.rc)}",
                drop=gone,
            )
        acknowledged: asyncio.Future[ReasonCode] = self._loop.create_future()
        self._acks[info.mid] = acknowledged
        return info.mid, acknowledged

    def forget(self, mid: int, acknowledged: asyncio.Future[ReasonCode]) -> None:
        if self._acks.get(mid) is acknowledged:
            del self._acks[mid]

    def abandon(self) -> None:
        """Close the socket of a connection attempt given up on (paho-mqtt may hold one)."""
        with contextlib.suppress(Exception):
            self._client._sock_close()

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None = None,
    ) -> None:
        # paho-mqtt keeps up to 20 QoS 1/2 messages in flight whatever the broker's Receive
        # Maximum (a broker that allows fewer may close a connection that exceeds it), and its
        # setter refuses a change once connected: nothing is in flight yet, so set it here.
        receive_maximum = getattr(properties, "ReceiveMaximum", None)
        if isinstance(receive_maximum, int) and 0 < receive_maximum < _IN_FLIGHT:
            client._max_inflight_messages = receive_maximum
        super()._on_connect(client, userdata, flags, reason_code, properties)

    def _on_publish(
        self,
        client: paho.Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties,
    ) -> None:
        self._settle(mid, reason_code)
        super()._on_publish(client, userdata, mid, reason_code, properties)

    def _settle(self, mid: int, reason_code: ReasonCode) -> None:
        acknowledged = self._acks.pop(mid, None)
        if acknowledged is not None and not acknowledged.done():
            acknowledged.set_result(reason_code)

    def _watch_pubrec(self) -> None:
        """Settle a QoS 2 publish that PUBREC refuses (paho-mqtt would carry on regardless)."""
        client = self._client
        handle: Callable[[], MQTTErrorCode] | None = getattr(client, "_handle_pubrec", None)
        if handle is None or not hasattr(client, "_in_packet"):
            log.warning("this paho-mqtt cannot be watched: QoS 2 refusals will pass unnoticed")
            return
        original = handle

        def handle_pubrec() -> MQTTErrorCode:
            packet = bytes(client._in_packet["packet"])
            if len(packet) > 2 and packet[2] >= _FAILURE:
                mid = int.from_bytes(packet[:2], "big")
                self._settle(mid, ReasonCode(PacketTypes.PUBREC, identifier=packet[2]))
            return original()

        setattr(client, "_handle_pubrec", handle_pubrec)  # noqa: B010 (an instance override)


class MqttConnection:
    """One MQTT 5 connection (see the module)."""

    def __init__(self, client: _Client) -> None:
        self._client = client

    @property
    def is_open(self) -> bool:
        return self._client.is_connected

    async def publish(self, message: BrokerMessage) -> str:
        action = message.action
        assert isinstance(action, MqttAction), "an MQTT message carries an MQTT action"
        if not self.is_open:
            raise BrokerError("connect", "the connection to the MQTT broker is closed", drop=True)
        answer = "PUBCOMP" if action.qos == 2 else "PUBACK"
        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        if message.headers:
            properties.UserProperty = [(name, value) for name, value in message.headers.items()]
        if message.content_type:
            properties.ContentType = message.content_type
        try:
            mid, acknowledged = self._client.send(
                message.target, message.body, action.qos, action.retain, properties
            )
        except ValueError as exc:  # an invalid topic, a payload over MQTT's 256 MB
            raise BrokerError(
                "invalid_request", f"the message cannot be published: {exc}"
            ) from None
        disconnected = self._client.disconnected
        try:
            await asyncio.wait((acknowledged, disconnected), return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._client.forget(mid, acknowledged)
        if not acknowledged.done():
            acknowledged.cancel()
            raise BrokerError(
                "connect",
                f"the connection to the MQTT broker closed before the {answer}"
                f"{_why_disconnected(disconnected)}",
                drop=True,
            )
        reason = acknowledged.result()
        if reason.value >= _FAILURE:
            packet = "PUBREC" if reason.packetType == PacketTypes.PUBREC else answer
            raise BrokerError(
                "refused", f"the broker refused the message: {packet} {_describe(reason)}"
            )
        return answer if reason.value == 0 else f"{answer} ({reason})"

    async def close(self) -> None:
        try:
            await self._client.__aexit__(None, None, None)
        finally:
            _why_disconnected(self._client.disconnected)  # retrieves its exception


async def connect(url: str, *, timeout: float, verify_tls: bool) -> MqttConnection:
    """Open an MQTT 5 connection to the broker ``url`` names (mqtt:// or mqtts://)."""
    host, port = host_and_port("mqtt", url)
    user, password = credentials(url)
    context: ssl.SSLContext | None = None
    if uses_tls("mqtt", url):
        context = ssl.create_default_context()
        if not verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    client = _Client(
        host,
        port,
        username=user if user is not None or password is None else "",
        password=password,
        identifier=f"hookline-{secrets.token_hex(8)}",
        protocol=aiomqtt.ProtocolVersion.V5,
        clean_start=True,
        timeout=timeout,
        connect_timeout=timeout,
        tls_context=context,
    )
    try:
        # paho-mqtt bounds the TCP connection and aiomqtt the wait for CONNACK, each by
        # ``timeout``; this bounds the two together.
        async with asyncio.timeout(2 * timeout + 1):
            await client.__aenter__()
    except BaseException as exc:
        client.abandon()
        if isinstance(exc, MqttConnectError):
            raise _refused(exc) from None
        if isinstance(exc, aiomqtt.MqttError):
            raise _unreachable(exc, timeout) from None
        if isinstance(exc, TimeoutError):
            raise BrokerError("timeout", "no connection to the MQTT broker in time") from None
        raise
    return MqttConnection(client)


def _refused(exc: MqttConnectError) -> BrokerError:
    """A CONNACK that refused the connection."""
    code = exc.rc.value if isinstance(exc.rc, ReasonCode) else exc.rc
    text = f"the MQTT broker refused the connection: {exc.rc} ({code:#04x})" if code else str(exc)
    if code in _AUTH_REFUSALS:
        return BrokerError("auth", text)
    return BrokerError("protocol" if code == _UNSUPPORTED_PROTOCOL else "connect", text)


def _unreachable(exc: aiomqtt.MqttError, timeout: float) -> BrokerError:
    """A connection that failed before CONNACK (aiomqtt keeps the cause as its context)."""
    cause = exc.__context__
    if isinstance(cause, OSError):
        return BrokerError(classify(cause), f"cannot connect to the MQTT broker: {cause}")
    if "timed out" in str(exc).lower():
        return BrokerError("timeout", f"no CONNACK from the MQTT broker within {timeout:g} s")
    return BrokerError("connect", f"cannot connect to the MQTT broker: {exc}")


def _describe(reason: ReasonCode) -> str:
    return f"{reason} ({reason.value:#04x})"


def _why_disconnected(disconnected: asyncio.Future[None]) -> str:
    if not disconnected.done() or disconnected.cancelled():
        return ""
    exc = disconnected.exception()
    return f" ({exc})" if exc is not None else ""
