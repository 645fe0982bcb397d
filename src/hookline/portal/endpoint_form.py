"""The portal's endpoint form: its values from a stored endpoint or a submission, the draft
they describe, and the event-type picker's choices.

Custom headers are typed as text, one ``Name: value`` per line; a credential's value is shown
masked (``domain.secret_headers``) and a masked value sent back keeps the stored one, as in the
dashboard. When the link allows broker destinations, the form offers the endpoint's kind and
each allowed kind's settings; those fields (their names, labels and defaults, how a stored
endpoint's are shown, the URL's password masked, and how the typed text becomes the settings)
are the dashboard's catalogue, ``dashboard.destination_form``, which the webhook form uses too.
What is the portal's own: only HTTP and the broker kinds the link allows (no email), the labels
of its other fields, and the :class:`EndpointDraft` it fills in. The rules (what a customer may
subscribe to, which kinds they may use, what a configuration must be) are the services'
(``services.portal_endpoints``); problems are placed beside their fields (:func:`form_errors`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final

from hookline.dashboard.destination_form import (
    BROKER_FIELDS,
    BROKER_LABELS,
    KIND_CHOICES,
    broker_blanks,
    broker_fields,
    broker_from_form,
    broker_settings,
    broker_values,
)
from hookline.dashboard.forms import Form
from hookline.dashboard.webhook_form import api_error, blank_number
from hookline.domain import secret_headers
from hookline.domain.models import Webhook
from hookline.domain.records import record
from hookline.errors import ApiError
from hookline.services.portal_endpoints import CatalogEntry, EndpointDraft

__all__ = [
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

#: How the form names each kind of endpoint (a customer's endpoint never sends email).
KIND_LABELS: Final[Mapping[str, str]] = {k: name for k, name in KIND_CHOICES if k != "email"}
_HTTP_FIELDS = ("name", "description", "url", "events", "headers", "enabled")
#: The form's fields: a problem of any other field is shown above the form.
FIELDS: Final = (
    *_HTTP_FIELDS,
    "rate_limit_per_second",
    "kind",
    *broker_fields(),
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
    **BROKER_LABELS,
}


@record
class Choice:
    """One checkbox of the event-type picker: a pattern or a catalog entry."""

    value: str
    label: str
    entry: CatalogEntry | None = None


def blank_values() -> dict[str, Any]:
    text = dict.fromkeys(("name", "description", "url", "headers", "rate_limit_per_second"), "")
    return text | {"events": [], "enabled": True, "kind": "webhook"} | broker_blanks()


def values_of(hook: Webhook) -> dict[str, Any]:
    """What the form shows for a stored endpoint (credential header values and a broker URL's
    password masked)."""
    config = hook.config
    shown = secret_headers.mask(config.headers, config.secret_headers)
    return {
        "name": config.name,
        "description": config.description,
        "url": config.url or "",
        "events": list(config.events),
        "headers": header_lines(shown),
        "enabled": config.enabled,
        "rate_limit_per_second": blank_number(config.rate_limit_per_second),
        "kind": config.kind,
    } | broker_values(config)


def values_from_form(form: Form) -> dict[str, Any]:
    """What the form shows again after a submission, as typed (no kind chosen: HTTP)."""
    names = ("name", "description", "url", "headers", "rate_limit_per_second")
    text = {name: form.get(name) for name in names}
    chosen = {"events": form.getlist("events"), "enabled": form.has("enabled")}
    return text | chosen | {"kind": form.get("kind", "webhook")} | broker_from_form(form)


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
        broker=broker_settings(kind, values) if kind in BROKER_FIELDS else None,
    )
    return draft, errors


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
        shown |= {"kind", *broker_fields(kinds)}
    return {k: v for k, v in errors.items() if k not in shown}
