"""The portal's endpoint form: its values from a stored endpoint or a submission, the draft
they describe, and the event-type picker's choices.

Custom headers are typed as text, one ``Name: value`` per line; a credential's value is shown
masked (``domain.secret_headers``) and a masked value sent back keeps the stored one, as in the
dashboard. When the link allows broker destinations, the form offers the endpoint's kind and
each allowed kind's settings, named as the services name their problems (``redis.url``,
``mqtt.qos``…); a broker URL's password is shown masked (``destinations.mask_url``) and the
mask sent back keeps the stored password. The rules (what a customer may subscribe to, which
kinds they may use, what a configuration must be) are the services'
(``services.portal_endpoints``); problems are placed beside their fields (:func:`form_errors`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final

from hookline.dashboard.forms import Form
from hookline.dashboard.webhook_form import api_error, blank_number
from hookline.domain import secret_headers
from hookline.domain.destinations import mask_url
from hookline.domain.models import Webhook
from hookline.domain.records import record
from hookline.errors import ApiError
from hookline.services.portal_endpoints import CatalogEntry, EndpointDraft

__all__ = [
    "BROKER_FIELDS",
    "FIELDS",
    "KIND_LABELS",
    "LABELS",
    "Choice",
    "blank_values",
    "choices",
    "draft_of",
    "form_errors",
    "header_lines",
    "other_errors",
    "parse_header_lines",
    "values_from_form",
    "values_of",
]

#: Each broker kind's settings in the form, as ``kind.key`` (``domain.destinations``' names).
BROKER_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "rabbitmq": ("url", "exchange", "routing_key"),
    "nats": ("url", "subject"),
    "redis": ("url", "stream", "maxlen"),
    "mqtt": ("url", "topic", "qos", "retain"),
}
#: How the form names each kind of endpoint.
KIND_LABELS: Final[Mapping[str, str]] = {
    "webhook": "HTTP webhook",
    "rabbitmq": "RabbitMQ",
    "nats": "NATS JetStream",
    "redis": "Redis stream",
    "mqtt": "MQTT",
}
_HTTP_FIELDS = ("name", "description", "url", "events", "headers", "enabled")
#: The form's fields: a problem of any other field is shown above the form.
FIELDS: Final = (
    *_HTTP_FIELDS,
    "rate_limit_per_second",
    "kind",
    *(f"{kind}.{key}" for kind, keys in BROKER_FIELDS.items() for key in keys),
)
#: What the list of problems above the form calls each field.
LABELS: Final[Mapping[str, str]] = {
    "name": "Name",
    "url": "Endpoint URL",
    "description": "Description",
    "events": "Event types",
    "headers": "Custom headers",
    "enabled": "Enabled",
    "rate_limit_per_second": "Rate limit",
    "kind": "Destination",
    "rabbitmq.url": "RabbitMQ URL",
    "rabbitmq.exchange": "Exchange",
    "rabbitmq.routing_key": "Routing key",
    "nats.url": "NATS URL",
    "nats.subject": "Subject",
    "redis.url": "Redis URL",
    "redis.stream": "Stream",
    "redis.maxlen": "Maximum length",
    "mqtt.url": "MQTT URL",
    "mqtt.topic": "Topic",
    "mqtt.qos": "QoS",
    "mqtt.retain": "Retain",
}
_BROKER_DEFAULTS: Final[Mapping[str, Any]] = {
    "rabbitmq.routing_key": "$type",
    "mqtt.qos": "1",
    "mqtt.retain": False,
}


@record
class Choice:
    """One checkbox of the event-type picker: a pattern or a catalog entry."""

    value: str
    label: str
    entry: CatalogEntry | None = None


def _broker_blanks() -> dict[str, Any]:
    names = [f"{kind}.{key}" for kind, keys in BROKER_FIELDS.items() for key in keys]
    return dict.fromkeys(names, "") | dict(_BROKER_DEFAULTS)


def blank_values() -> dict[str, Any]:
    text = dict.fromkeys(("name", "description", "url", "headers", "rate_limit_per_second"), "")
    return text | {"events": [], "enabled": True, "kind": "webhook"} | _broker_blanks()


def values_of(hook: Webhook) -> dict[str, Any]:
    """What the form shows for a stored endpoint (credential header values and a broker URL's
    password masked)."""
    config = hook.config
    shown = secret_headers.mask(config.headers, config.secret_headers)
    values = {
        "name": config.name,
        "description": config.description,
        "url": config.url or "",
        "events": list(config.events),
        "headers": header_lines(shown),
        "enabled": config.enabled,
        "rate_limit_per_second": blank_number(config.rate_limit_per_second),
        "kind": config.kind,
    } | _broker_blanks()
    action = config.broker
    if action is not None:
        settings = action.model_dump()
        for key in BROKER_FIELDS[config.kind]:
            values[f"{config.kind}.{key}"] = _shown(key, settings[key])
    return values


def _shown(key: str, value: Any) -> Any:
    """A broker setting as its input shows it: the URL's password masked, numbers as text."""
    if key == "url":
        return mask_url(value)
    if value is None:
        return ""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def values_from_form(form: Form) -> dict[str, Any]:
    """What the form shows again after a submission, as typed (no kind chosen: HTTP)."""
    names = ("name", "description", "url", "headers", "rate_limit_per_second")
    text = {name: form.get(name) for name in names}
    broker: dict[str, Any] = {name: form.get(name, str(v)) for name, v in _broker_blanks().items()}
    broker["mqtt.retain"] = form.has("mqtt.retain")
    chosen = {"events": form.getlist("events"), "enabled": form.has("enabled")}
    return text | chosen | {"kind": form.get("kind", "webhook")} | broker


def draft_of(values: Mapping[str, Any]) -> tuple[EndpointDraft, dict[str, str]]:
    """The draft the values describe, and the problems only the form can see."""
    headers, problem = parse_header_lines(values["headers"])
    errors = {} if problem is None else {"headers": problem}
    rate = _rate(values["rate_limit_per_second"], errors)
    kind = values.get("kind", "webhook")
    draft = EndpointDraft(
        name=values["name"].strip(),
        url=values["url"].strip(),
        description=values["description"].strip(),
        events=tuple(dict.fromkeys(values["events"])),
        headers=headers,
        enabled=bool(values["enabled"]),
        rate_limit_per_second=rate,
        kind=kind,
        broker=_broker(kind, values, errors) if kind in BROKER_FIELDS else None,
    )
    return draft, errors


def _broker(kind: str, values: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """A broker kind's settings as typed: text trimmed, numbers read (a number that is not one
    is a problem beside its field; the settings' own rules are the services')."""
    found: dict[str, Any] = {}
    for key in BROKER_FIELDS[kind]:
        value = values[f"{kind}.{key}"]
        found[key] = value.strip() if isinstance(value, str) else bool(value)
    if kind == "redis":
        found["maxlen"] = _whole(found["maxlen"], "redis.maxlen", errors)
    if kind == "mqtt":
        qos = found["qos"]
        found["qos"] = int(qos) if qos in ("1", "2") else 1
        if qos not in ("1", "2"):
            errors["mqtt.qos"] = "1 (at least once) or 2 (exactly once)"
    return found


def _whole(text: str, field: str, errors: dict[str, str]) -> int | None:
    """A whole number typed (blank: none); anything else is a problem beside the field."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    errors[field] = "a whole number, such as 10000, or blank"
    return None


def _rate(text: str, errors: dict[str, str]) -> float | None:
    """The rate limit typed (blank: none); not a number is a problem beside the field."""
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        errors["rate_limit_per_second"] = "a number of messages per second, such as 10 or 0.5"
        return None


def header_lines(headers: Mapping[str, str]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def parse_header_lines(text: str) -> tuple[dict[str, str], str | None]:
    """The headers of ``Name: value`` lines (blank lines skipped), and what is wrong with them:
    a line without a colon, or a name given twice (in any case). Names and values are checked
    by the configuration itself."""
    headers: dict[str, str] = {}
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not name:
            return headers, f"line {number}: write each header as Name: value"
        if name.lower() in seen:
            return headers, f"line {number}: header {name!r} is given twice"
        seen.add(name.lower())
        headers[name] = value.strip()
    return headers, None


def choices(
    entries: Sequence[CatalogEntry], patterns: Sequence[str], chosen: Sequence[str]
) -> list[Choice]:
    """The picker's checkboxes: the wildcard patterns the customer may subscribe to, the
    catalog entries they may see, then whatever else ``chosen`` holds (kept as it is)."""
    found = [Choice(p, _pattern_label(p)) for p in patterns]
    found += [Choice(e.name, e.name, e) for e in entries]
    offered = {c.value for c in found}
    return found + [Choice(p, _pattern_label(p)) for p in chosen if p not in offered]


def _pattern_label(pattern: str) -> str:
    if pattern == "*":
        return "All events"
    return f"All {pattern} events" if "*" in pattern else pattern


def form_errors(problems: Sequence[ApiError]) -> dict[str, str]:
    """Every problem beside its field: a broker setting's at its own input (``redis.url``), any
    other at the input its path starts with (``headers.X-A`` at ``headers``); two problems of
    one input share its place."""
    errors: dict[str, str] = {}
    for problem in problems:
        for path, message in api_error(problem, full_paths=True).items():
            key = path if path in FIELDS else path.split(".")[0]
            errors[key] = f"{errors[key]}; {message}" if key in errors else message
    return errors


def other_errors(errors: Mapping[str, str], kinds: Collection[str] = ()) -> dict[str, str]:
    """The problems of no field the form shows (listed above it); ``kinds``: the broker kinds
    it offers (none: it has no choice of kind either)."""
    shown = {*_HTTP_FIELDS, "rate_limit_per_second"}
    if kinds:
        shown |= {"kind", *(f"{k}.{key}" for k in kinds for key in BROKER_FIELDS[k])}
    return {k: v for k, v in errors.items() if k not in shown}
