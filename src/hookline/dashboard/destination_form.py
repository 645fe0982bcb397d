"""The destination part of an action's form: the kind of action (an HTTP webhook, a message
broker, an email) and the settings of each kind.

This is the one catalogue of the broker settings' fields, for every form that offers them: the
dashboard's webhook form and the customer portal's endpoint form. Each field is named
``<kind>.<setting>`` (``rabbitmq.url``, ``mqtt.qos``) like the fields the services name in
their errors, so a problem shows beside its input. The catalogue says which settings each
broker kind has (:data:`BROKER_FIELDS`), what they are called (:data:`BROKER_LABELS`), what a
new action starts with (:func:`broker_blanks`), how a stored action's settings are shown
(:func:`broker_values`: the URL's password masked with ``destinations.mask_url``; saved back
unchanged, the services keep the stored password), and how the submitted text becomes the
settings object (:func:`broker_settings`).

Validation is the services': a form only reads what a browser cannot send typed (a number, a
checkbox, a recipient list) and hands anything it cannot read to the services as typed, whose
problem then shows beside the field. The dashboard's form shows every kind's fields at once and
sends only the chosen kind's settings (:func:`settings_body`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from hookline.dashboard.forms import Form
from hookline.domain.destinations import BROKER_KINDS, mask_url
from hookline.domain.models import WebhookConfig

#: The kinds of action, in the order forms offer them, with the names every form shows them by.
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

#: Each broker kind's settings in a form, in order (``domain.destinations``' names), with what
#: a list of problems calls each one.
BROKER_FIELDS: Final[Mapping[str, Mapping[str, str]]] = {
    "rabbitmq": {"url": "RabbitMQ URL", "exchange": "Exchange", "routing_key": "Routing key"},
    "nats": {"url": "NATS URL", "subject": "Subject"},
    "redis": {"url": "Redis URL", "stream": "Stream", "maxlen": "Maximum length"},
    "mqtt": {"url": "MQTT URL", "topic": "Topic", "qos": "QoS", "retain": "Retain"},
}
#: Every broker setting's field (``rabbitmq.url``) with what a list of problems calls it.
BROKER_LABELS: Final[Mapping[str, str]] = {
    f"{kind}.{key}": label for kind, keys in BROKER_FIELDS.items() for key, label in keys.items()
}
_EMAIL_FIELDS: Final = ("to", "subject", "body", "sender")

#: What a new action's settings start with; any other starts blank. A setting whose default is
#: True or False is a checkbox.
_DEFAULTS: Final[Mapping[str, str | bool]] = {
    "rabbitmq.routing_key": "$type",
    "mqtt.qos": "1",
    "mqtt.retain": False,
    "email.body": "$payload",
}
#: Settings whose empty input means "the default" (left out of the settings).
_DEFAULTED: Final = {"rabbitmq.routing_key", "email.body"}
#: Settings whose empty input means "not set" (None).
_NULLABLE: Final = {"redis.maxlen", "email.sender"}
#: Settings that are whole numbers: read when typed as one, else sent as typed for the
#: services to say what is wrong.
_NUMBERS: Final = {"redis.maxlen", "mqtt.qos"}


def broker_fields(kinds: Iterable[str] = BROKER_KINDS) -> list[str]:
    """The fields of the broker kinds' settings (``rabbitmq.url``, ``rabbitmq.exchange``…), in
    the forms' order."""
    return [f"{kind}.{key}" for kind in kinds for key in BROKER_FIELDS[kind]]


def broker_blanks() -> dict[str, Any]:
    """The broker settings' fields of a new action, each at its default."""
    return {name: _DEFAULTS.get(name, "") for name in broker_fields()}


def broker_values(config: WebhookConfig) -> dict[str, Any]:
    """What the broker settings' fields show for a stored action: its kind's settings as their
    inputs show them (the URL's password masked, numbers as text, none as blank), the other
    kinds' defaults."""
    values = broker_blanks()
    action = config.broker
    if action is not None:
        settings = action.model_dump() | {"url": mask_url(action.url)}
        kind = config.kind
        values |= {f"{kind}.{key}": _shown(settings[key]) for key in BROKER_FIELDS[kind]}
    return values


def _shown(value: Any) -> Any:
    """A setting as its input shows it: text and a checkbox as they are, a number as text, none
    as blank."""
    if value is None:
        return ""
    return value if isinstance(value, bool | str) else str(value)


def broker_from_form(form: Form) -> dict[str, Any]:
    """The broker settings' fields as submitted (see :func:`_submitted`)."""
    return _submitted(form, broker_blanks())


def broker_settings(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """A broker kind's settings object from its fields: text trimmed, a checkbox on or off, a
    whole number read; an empty routing key is the default, an empty maximum length none. The
    settings' rules (a URL's scheme, a QoS of 1 or 2) are the services'."""
    settings: dict[str, Any] = {}
    for key in BROKER_FIELDS[kind]:
        name = f"{kind}.{key}"
        value = values[name]
        if isinstance(value, bool):
            settings[key] = value
            continue
        text = value.strip()
        if not text and name in _DEFAULTED:
            continue
        if not text and name in _NULLABLE:
            settings[key] = None
        else:
            settings[key] = int(text) if name in _NUMBERS and text.isdigit() else text
    return settings


def error_key(field: str) -> str:
    """Where a problem with ``field`` shows: a kind's setting beside its own input
    (``rabbitmq.url``, ``email.to.0`` at ``email.to``), any other field at its top level."""
    parts = field.split(".")
    if parts[0] in SETTINGS_KINDS and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def values_from_config(config: WebhookConfig) -> dict[str, Any]:
    """What the dashboard's destination fields show for a stored action: its kind's settings (a
    broker URL's password masked), the other kinds' defaults."""
    values = blank_values() | {"kind": config.kind} | broker_values(config)
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
    """The dashboard's destination fields of a new action: an HTTP webhook, every kind's
    defaults."""
    email = {f"email.{key}": _DEFAULTS.get(f"email.{key}", "") for key in _EMAIL_FIELDS}
    return {"kind": "webhook"} | broker_blanks() | email


def values_from_form(form: Form) -> dict[str, Any]:
    """The dashboard's destination fields as submitted (see :func:`_submitted`)."""
    return _submitted(form, blank_values())


def _submitted(form: Form, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Fields as submitted: a checkbox is on when sent (one left unchecked is absent), any other
    field as typed, or its default when the submission lacks it."""
    return {
        name: form.has(name) if isinstance(default, bool) else form.get(name, default)
        for name, default in defaults.items()
    }


def settings_body(values: Mapping[str, Any]) -> dict[str, Any]:
    """The request body's destination: ``kind``, the chosen kind's settings object, and None
    for the other kinds' (an edit that changes the kind drops the old settings); ``url`` only
    for an HTTP webhook."""
    kind = values["kind"]
    url = (values["url"] or None) if kind == "webhook" else None
    body: dict[str, Any] = {"kind": kind, "url": url} | dict.fromkeys(SETTINGS_KINDS)
    if kind in BROKER_FIELDS:
        body[kind] = broker_settings(kind, values)
    elif kind == "email":
        body[kind] = _email_settings(values)
    return body


def _email_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for key in _EMAIL_FIELDS:
        name = f"email.{key}"
        text = values[name]
        if name in _DEFAULTED and not text.strip():
            continue
        settings[key] = None if name in _NULLABLE and not text.strip() else text
    settings["to"] = [a.strip() for a in re.split(r"[,\n]", settings["to"]) if a.strip()]
    return settings
