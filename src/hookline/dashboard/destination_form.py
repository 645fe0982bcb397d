"""The destination part of the webhook form: the kind of action (an HTTP webhook, a message
broker, an email) and the settings of each kind.

Every kind's fields are on the page at once, named ``<kind>.<setting>`` (``rabbitmq.url``,
``mqtt.qos``) like the fields the services name in their errors, so a problem shows beside its
input; only the chosen kind's settings are sent. A stored broker URL is shown with its password
masked (``destinations.mask_url``): saved back unchanged, the services keep the stored password.
Validation is the services'; this module only reads what a browser cannot send typed (a QoS
number, a recipient list).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from hookline.dashboard.forms import Form
from hookline.domain.destinations import BROKER_KINDS, mask_url
from hookline.domain.models import WebhookConfig

#: The kinds the form offers, in order, with the names it shows them by.
KIND_CHOICES: Final = (
    ("webhook", "HTTP webhook"),
    ("rabbitmq", "RabbitMQ"),
    ("nats", "NATS JetStream"),
    ("redis", "Redis Stream"),
    ("mqtt", "MQTT"),
    ("email", "Email"),
)
KIND_NAMES: Final = dict(KIND_CHOICES)

#: The kinds whose settings are an object named like the kind (the others use ``url``).
SETTINGS_KINDS: Final = (*BROKER_KINDS, "email")

#: Each kind's text fields and what a new action starts with.
_TEXT: Final[dict[str, dict[str, str]]] = {
    "rabbitmq": {"url": "", "exchange": "", "routing_key": "$type"},
    "nats": {"url": "", "subject": ""},
    "redis": {"url": "", "stream": "", "maxlen": ""},
    "mqtt": {"url": "", "topic": "", "qos": "1"},
    "email": {"to": "", "subject": "", "body": "$payload", "sender": ""},
}
#: Settings whose empty input means "the default" (left out of the request).
_DEFAULTED: Final = {"rabbitmq.routing_key", "email.body"}
#: Settings whose empty input means "not set" (None).
_NULLABLE: Final = {"redis.maxlen", "email.sender"}


def error_key(field: str) -> str:
    """Where a problem with ``field`` shows: a kind's setting beside its own input
    (``rabbitmq.url``, ``email.to.0`` at ``email.to``), any other field at its top level."""
    parts = field.split(".")
    if parts[0] in SETTINGS_KINDS and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def values_from_config(config: WebhookConfig) -> dict[str, Any]:
    """What the destination fields show for a stored action: its kind's settings (a broker
    URL's password masked), the other kinds' defaults."""
    values = blank_values() | {"kind": config.kind}
    action = config.broker
    if action is not None:
        settings = action.model_dump()
        settings["url"] = mask_url(action.url)
        values |= _prefixed(config.kind, settings)
    if config.email is not None:
        email = config.email
        values |= {
            "email.to": ", ".join(email.to),
            "email.subject": email.subject,
            "email.body": email.body,
            "email.sender": email.sender or "",
        }
    return values


def blank_values() -> dict[str, Any]:
    """The destination fields of a new action: an HTTP webhook, every kind's defaults."""
    values: dict[str, Any] = {"kind": "webhook", "mqtt.retain": False}
    for kind, fields in _TEXT.items():
        values |= _prefixed(kind, fields)
    return values


def values_from_form(form: Form) -> dict[str, Any]:
    """The destination fields as submitted (a checkbox left unchecked is absent: off)."""
    values = {name: form.get(name, default) for name, default in blank_values().items()}
    return values | {"kind": form.get("kind", "webhook"), "mqtt.retain": form.has("mqtt.retain")}


def settings_body(values: Mapping[str, Any]) -> dict[str, Any]:
    """The request body's destination: ``kind``, the chosen kind's settings object, and None
    for the other kinds' (an edit that changes the kind drops the old settings); ``url`` only
    for an HTTP webhook."""
    kind = values["kind"]
    url = (values["url"] or None) if kind == "webhook" else None
    body: dict[str, Any] = {"kind": kind, "url": url} | dict.fromkeys(SETTINGS_KINDS)
    if kind in _TEXT:
        body[kind] = _settings(kind, values)
    return body


def _settings(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for name in _TEXT[kind]:
        key = f"{kind}.{name}"
        text = values[key]
        if key in _DEFAULTED and not text.strip():
            continue
        settings[name] = None if key in _NULLABLE and not text.strip() else text
    if kind == "mqtt":
        qos = settings["qos"].strip()
        settings["qos"] = int(qos) if qos.isdigit() else qos
        settings["retain"] = values["mqtt.retain"]
    if kind == "email":
        settings["to"] = [a.strip() for a in re.split(r"[,\n]", settings["to"]) if a.strip()]
    return settings


def _prefixed(kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    shown = {k: "" if v is None else v for k, v in settings.items()}
    if kind == "mqtt":
        shown["qos"] = str(settings.get("qos", 1))
        shown["retain"] = bool(settings.get("retain", False))
    return {f"{kind}.{name}": value for name, value in shown.items()}
