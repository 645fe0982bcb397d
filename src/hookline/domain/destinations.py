"""Destinations beyond HTTP: message brokers an action publishes to (pure: no I/O).

An action's ``kind`` names where its deliveries go. Besides ``webhook`` (an HTTP request) and
``email``, four broker kinds publish the same body, with the same signatures as message headers,
to a queue or a stream, and count as delivered only when the broker has taken the message:

=========== =========================================== ==========================================
kind        config (the object named like the kind)     success means
=========== =========================================== ==========================================
``rabbitmq`` ``url`` (amqp/amqps), ``exchange``,          a publisher confirm; published
            ``routing_key`` (a template)                ``mandatory``, so unroutable fails
``nats``    ``url`` (nats/tls), ``subject`` (a template) a JetStream publish acknowledgement
``redis``   ``url`` (redis/rediss), ``stream``,          the ``XADD`` reply (the entry id)
            ``maxlen`` (approximate trimming)
``mqtt``    ``url`` (mqtt/mqtts), ``topic`` (a template), PUBACK (QoS 1) or PUBCOMP (QoS 2)
            ``qos`` 1 or 2, ``retain``
=========== =========================================== ==========================================

A broker URL's password is a credential: encrypted at rest (``store.rows``), shown as
``user:[redacted]@`` everywhere (:func:`mask_url`), and an edit that sends the masked URL back
keeps the stored password (:func:`restore_url`). Targets that are templates (routing key,
subject, topic) render like an email subject: ``$type``, ``${event.id}``, payload fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal
from urllib.parse import SplitResult, quote, unquote, urlsplit, urlunsplit

from pydantic import AfterValidator, ConfigDict, Field

from hookline.domain import templates
from hookline.domain.nul import NoNulModel
from hookline.errors import TemplateError

#: The kinds that publish to a broker, in the order forms list them.
BROKER_KINDS: Final = ("rabbitmq", "nats", "redis", "mqtt")

#: What each broker kind needs installed: (the module imported, the extra that brings it).
EXTRAS: Final[Mapping[str, tuple[str, str]]] = {
    "rabbitmq": ("aio_pika", "rabbitmq"),
    "nats": ("nats", "nats"),
    "redis": ("redis", "redis"),
    "mqtt": ("aiomqtt", "mqtt"),
}

#: URL schemes per kind; the second of each pair connects over TLS.
SCHEMES: Final[Mapping[str, tuple[str, str]]] = {
    "rabbitmq": ("amqp", "amqps"),
    "nats": ("nats", "tls"),
    "redis": ("redis", "rediss"),
    "mqtt": ("mqtt", "mqtts"),
}
DEFAULT_PORTS: Final[Mapping[str, tuple[int, int]]] = {
    "rabbitmq": (5672, 5671),
    "nats": (4222, 4222),
    "redis": (6379, 6379),
    "mqtt": (1883, 8883),
}

#: The value a masked password is shown as (the same word as a masked header).
MASK: Final = "[redacted]"
_MASKED_QUOTED: Final = quote(MASK, safe="")
_MAX_TARGET: Final = 255  # an AMQP routing key's limit; subjects and topics are held to it too


def _check_target_template(value: str) -> str:
    try:
        templates.validate_template(value, "text/plain")
    except TemplateError as exc:
        raise ValueError(str(exc)) from None
    return value


TargetTemplate = Annotated[
    str, Field(min_length=1, max_length=_MAX_TARGET), AfterValidator(_check_target_template)
]
BrokerUrl = Annotated[str, Field(min_length=1, max_length=2048)]


def _url_checker(kind: str) -> Any:
    def check(value: str) -> str:
        return check_broker_url(kind, value)

    return AfterValidator(check)


class RabbitMQAction(NoNulModel):
    """Publish to a RabbitMQ exchange with publisher confirms, ``mandatory`` set."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[BrokerUrl, _url_checker("rabbitmq")] = Field(
        description="amqp://user:pass@host:5672/vhost (amqps:// for TLS)"
    )
    exchange: str = Field(
        max_length=_MAX_TARGET,
        description="The exchange; '' is the default exchange, where the routing key names a queue",
    )
    routing_key: TargetTemplate = Field(
        default="$type", description="A template: $type, ${event.id}, payload fields"
    )


class NatsAction(NoNulModel):
    """Publish to a NATS subject that a JetStream stream captures; success is its ack."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[BrokerUrl, _url_checker("nats")] = Field(
        description="nats://user:pass@host:4222 (tls:// for TLS)"
    )
    subject: TargetTemplate = Field(description="A template, e.g. events.$type")


class RedisAction(NoNulModel):
    """Append to a Redis stream with ``XADD``; success is the entry id it answers."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[BrokerUrl, _url_checker("redis")] = Field(
        description="redis://:pass@host:6379/0 (rediss:// for TLS)"
    )
    stream: str = Field(min_length=1, max_length=_MAX_TARGET, description="The stream's key")
    maxlen: int | None = Field(
        default=None, ge=1, le=1_000_000_000, description="Trim to about this many entries"
    )


class MqttAction(NoNulModel):
    """Publish to an MQTT 5 topic; success is PUBACK (QoS 1) or PUBCOMP (QoS 2)."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[BrokerUrl, _url_checker("mqtt")] = Field(
        description="mqtt://user:pass@host:1883 (mqtts:// for TLS)"
    )
    topic: TargetTemplate = Field(description="A template, e.g. hooks/$type")
    qos: Literal[1, 2] = Field(default=1, description="1: PUBACK; 2: exactly once, PUBCOMP")
    retain: bool = False


BrokerAction = RabbitMQAction | NatsAction | RedisAction | MqttAction


def split_url(value: str) -> SplitResult:
    """A URL's parts, checked as every outgoing URL is (a webhook's, a broker's): no whitespace
    or control characters, and a port that is a number in range (``ValueError`` saying why)."""
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ValueError("URL must not contain whitespace or control characters")
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid URL: {exc}") from None
    return parts


def check_broker_url(kind: str, value: str) -> str:
    """A broker URL for ``kind``: its scheme, a host, a valid port, no whitespace."""
    parts = split_url(value)
    schemes = SCHEMES[kind]
    if parts.scheme not in schemes:
        raise ValueError(f"a {kind} URL starts with {schemes[0]}:// or {schemes[1]}://")
    if not parts.hostname:
        raise ValueError("URL must name a host")
    if kind == "redis" and parts.path.strip("/") and not parts.path.strip("/").isdigit():
        raise ValueError("a redis URL's path is a database number, e.g. /0")
    return value


def uses_tls(kind: str, url: str) -> bool:
    return urlsplit(url).scheme == SCHEMES[kind][1]


def host_and_port(kind: str, url: str) -> tuple[str, int]:
    """The host a broker URL names and its port (the kind's default when not given)."""
    parts = urlsplit(url)
    default = DEFAULT_PORTS[kind][1 if uses_tls(kind, url) else 0]
    return parts.hostname or "", parts.port or default


def with_host(url: str, host: str) -> str:
    """The same URL with its host replaced (credentials, port and path kept): the address a
    checked hostname resolved to, so the library dials exactly what was judged."""
    parts = urlsplit(url)
    shown = f"[{host}]" if ":" in host else host
    netloc = shown if parts.port is None else f"{shown}:{parts.port}"
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at:
        netloc = f"{userinfo}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def credentials(url: str) -> tuple[str | None, str | None]:
    """The user name and password a URL carries (decoded), or None each."""
    parts = urlsplit(url)
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return user, password


def has_password(url: str) -> bool:
    return urlsplit(url).password is not None


def mask_url(url: str) -> str:
    """The URL as shown: its password replaced by :data:`MASK` (percent-encoded)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    netloc = f"{user}:{_MASKED_QUOTED}@{hostport}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def without_password(url: str) -> str:
    """The URL with no password at all (the attempt log's form: the user name stays)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    netloc = f"{user}@{hostport}" if user else hostport
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def is_masked(url: str) -> bool:
    """Whether a URL's password is the mask (as :func:`mask_url` shows it)."""
    password = urlsplit(url).password
    return password is not None and unquote(password) == MASK


def restore_url(sent: str, stored: str | None) -> str:
    """The URL an edit sends, its masked password replaced by the stored URL's password.

    A ``ValueError`` when the password is masked but nothing is stored to restore it from, or
    the stored URL names another host or user (a masked password never moves to a new host)."""
    if not is_masked(sent):
        return sent
    if stored is None or not has_password(stored):
        raise ValueError(f"the password is masked ({MASK!r}) but none is stored: give it")
    old, new = urlsplit(stored), urlsplit(sent)
    if (old.hostname, old.port, old.username, old.scheme) != (
        new.hostname,
        new.port,
        new.username,
        new.scheme,
    ):
        raise ValueError(
            f"the password is masked ({MASK!r}) but the URL's scheme, user, host or port changed:"
            " give the password again"
        )
    _, _, hostport = new.netloc.rpartition("@")
    netloc = f"{old.netloc.rpartition('@')[0]}@{hostport}"
    return urlunsplit((new.scheme, netloc, new.path, new.query, new.fragment))


def render_target(template: str, context: Mapping[str, Any]) -> str:
    """A routing key, subject or topic for one event: the template rendered as plain text,
    whitespace folded to nothing (no value can split a subject or inject a level)."""
    text = templates.render_body(template, context, "text/plain", max_bytes=4 * _MAX_TARGET)
    return "".join(text.split())


def target_problem(kind: str, target: str) -> str | None:
    """Why a rendered target cannot be published to (None: it can)."""
    if not target:
        return "the target rendered empty"
    if len(target.encode()) > _MAX_TARGET:
        return f"the target is longer than {_MAX_TARGET} bytes"
    if kind == "nats" and (any(ch in target for ch in "*>") or ".." in target):
        return f"subject {target!r} has a wildcard or an empty token"
    if kind == "mqtt" and any(ch in target for ch in "+#\x00"):
        return f"topic {target!r} has a wildcard"
    return None


def describe(kind: str, action: BrokerAction, target: str | None = None) -> str:
    """Where a message goes, as the attempt log shows it: the broker URL without its password
    and the target as query parameters (``amqp://guest@host:5672/%2F?exchange=x&routing_key=y``)."""
    base = without_password(action.url)
    pairs: list[tuple[str, str]] = []
    if isinstance(action, RabbitMQAction):
        pairs = [("exchange", action.exchange), ("routing_key", target or action.routing_key)]
    elif isinstance(action, NatsAction):
        pairs = [("subject", target or action.subject)]
    elif isinstance(action, RedisAction):
        pairs = [("stream", action.stream)]
        if action.maxlen:
            pairs.append(("maxlen", f"~{action.maxlen}"))
    else:
        pairs = [("topic", target or action.topic), ("qos", str(action.qos))]
        if action.retain:
            pairs.append(("retain", "true"))
    query = "&".join(f"{k}={quote(v, safe='/.*$#+~')}" for k, v in pairs)
    return f"{base}{'&' if '?' in base else '?'}{query}"
