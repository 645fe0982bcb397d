"""The portal's endpoint form: its values from a stored endpoint or a submission, the draft
they describe, and the event-type picker's choices.

Custom headers are typed as text, one ``Name: value`` per line; a credential's value is shown
masked (``domain.secret_headers``) and a masked value sent back keeps the stored one, as in the
dashboard. The rules (what a customer may subscribe to, what a configuration must be) are the
services' (``services.portal_endpoints``); problems are placed beside their fields by the
dashboard form's :func:`~hookline.dashboard.webhook_form.api_error`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hookline.dashboard.forms import Form
from hookline.dashboard.webhook_form import blank_number
from hookline.domain import secret_headers
from hookline.domain.models import Webhook
from hookline.domain.records import record
from hookline.services.portal_endpoints import CatalogEntry, EndpointDraft

__all__ = [
    "FIELDS",
    "Choice",
    "blank_values",
    "choices",
    "draft_of",
    "header_lines",
    "other_errors",
    "parse_header_lines",
    "values_from_form",
    "values_of",
]

#: The form's fields: a problem of any other field is shown above the form.
FIELDS = ("name", "description", "url", "events", "headers", "enabled", "rate_limit_per_second")


@record
class Choice:
    """One checkbox of the event-type picker: a pattern or a catalog entry."""

    value: str
    label: str
    entry: CatalogEntry | None = None


def blank_values() -> dict[str, Any]:
    text = dict.fromkeys(("name", "description", "url", "headers", "rate_limit_per_second"), "")
    return text | {"events": [], "enabled": True}


def values_of(hook: Webhook) -> dict[str, Any]:
    """What the form shows for a stored endpoint (credential header values masked)."""
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
    }


def values_from_form(form: Form) -> dict[str, Any]:
    """What the form shows again after a submission, as typed."""
    names = ("name", "description", "url", "headers", "rate_limit_per_second")
    text = {name: form.get(name) for name in names}
    return text | {"events": form.getlist("events"), "enabled": form.has("enabled")}


def draft_of(values: Mapping[str, Any]) -> tuple[EndpointDraft, dict[str, str]]:
    """The draft the values describe, and the problems only the form can see."""
    headers, problem = parse_header_lines(values["headers"])
    errors = {} if problem is None else {"headers": problem}
    rate = _rate(values["rate_limit_per_second"], errors)
    draft = EndpointDraft(
        name=values["name"].strip(),
        url=values["url"].strip(),
        description=values["description"].strip(),
        events=tuple(dict.fromkeys(values["events"])),
        headers=headers,
        enabled=bool(values["enabled"]),
        rate_limit_per_second=rate,
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


def other_errors(errors: Mapping[str, str]) -> dict[str, str]:
    """The problems of no field of the form (shown above it)."""
    return {k: v for k, v in errors.items() if k not in FIELDS}
