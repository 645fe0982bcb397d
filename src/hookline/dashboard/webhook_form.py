"""The webhook form: its values from a stored configuration or a submission, the body it
describes, and every problem with it keyed by the field it belongs beside.

Validation is the services' own (``hookline.services.webhooks.draft_problems``: the
configuration's rules and what it refers to, every problem at once); the form only reads what a
browser cannot send typed: JSON text and number lists. The destination's fields (the kind of
action and each kind's settings) are ``destination_form``'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from pydantic import ValidationError

from hookline.dashboard import destination_form
from hookline.dashboard.forms import Form, rows
from hookline.domain import secret_headers
from hookline.domain.models import WebhookConfig
from hookline.errors import ApiError
from hookline.wire.validation import describe

FORM_ERROR = "_form"
# Fields whose empty input means "not set" (None) rather than "use the default".
_NULLABLE = ("aggregation_max_events", "rate_limit_per_second")
_DEFAULTED = ("max_attempts", "timeout_seconds", "aggregation_seconds")
_AS_IS = ("name", "description", "method", "content_type", "ordering", "enabled", "verify_tls")


def values_from_config(config: WebhookConfig, catalog: Iterable[str]) -> dict[str, Any]:
    """What the form shows for a stored webhook: credential header values and a broker URL's
    password masked (saved back unchanged, the mask keeps the stored value)."""
    known = {"*", *catalog}
    data = config.model_dump(exclude=set(destination_form.SETTINGS_KINDS))
    headers = secret_headers.mask(config.headers, config.secret_headers)
    shown = {
        "url": config.url or "",
        "headers": list(headers.items()),
        "secret_headers": ", ".join(config.secret_headers),
        "metadata": list(config.metadata.items()),
        "events": [e for e in config.events if e in known],
        "events_other": ", ".join(e for e in config.events if e not in known),
        "filter": "" if config.filter is None else orjson.dumps(config.filter).decode(),
        "body_template": config.body_template or "",
        "retry_schedule": ", ".join(_number(d) for d in config.retry_schedule or []),
        "timeout_seconds": _number(config.timeout_seconds),
        "aggregation_max_events": blank_number(config.aggregation_max_events),
        "rate_limit_per_second": blank_number(config.rate_limit_per_second),
        "flow": config.flow or "",
        "secret": "",
    }
    return data | shown | destination_form.values_from_config(config)


def blank_values() -> dict[str, Any]:
    return values_from_config(WebhookConfig(name="-", url="https://example.com"), ()) | {
        "name": "",
        "url": "",
    }


def values_from_form(form: Form) -> dict[str, Any]:
    """What the form shows again after a submission (as typed); a field the submission lacks
    keeps its default (a checkbox left unchecked is absent, and means off)."""
    text = (
        "name description url method content_type events_other filter body_template"
        " max_attempts retry_schedule timeout_seconds aggregation_seconds"
        " aggregation_max_events rate_limit_per_second ordering flow secret secret_headers"
    )
    defaults = blank_values()
    values: dict[str, Any] = {name: form.get(name, defaults[name]) for name in text.split()}
    typed = {
        "headers": rows(form, "header_name", "header_value"),
        "metadata": rows(form, "meta_name", "meta_value"),
        "signature_schemes": form.getlist("signature_schemes"),
        "events": form.getlist("events"),
        "enabled": form.has("enabled"),
        "verify_tls": form.has("verify_tls"),
    }
    return values | typed | destination_form.values_from_form(form)


def api_body(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The API request body the form values describe, and errors only the form can see."""
    errors: dict[str, str] = {}
    body: dict[str, Any] = {key: values[key] for key in _AS_IS}
    body["signature_schemes"] = values["signature_schemes"]
    body |= destination_form.settings_body(values)
    body["headers"] = dict(values["headers"])
    body["secret_headers"] = split_list(values["secret_headers"])
    body["metadata"] = dict(values["metadata"])
    body["events"] = [*values["events"], *split_list(values["events_other"])]
    body["body_template"] = values["body_template"] or None
    body["flow"] = values["flow"] or None
    body |= {k: values[k] for k in _DEFAULTED if str(values[k]).strip()}
    body |= {k: values[k] if str(values[k]).strip() else None for k in _NULLABLE}
    body["filter"] = json_field(values["filter"], "filter", errors)
    body["retry_schedule"] = _numbers(values["retry_schedule"], "retry_schedule", errors)
    return body, errors


def validation_errors(exc: ValidationError) -> dict[str, str]:
    """Every pydantic error, keyed by its top-level field, as the API words it."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field, message = describe(error)
        key = destination_form.error_key(field or FORM_ERROR)
        errors.setdefault(key, message)
    return errors


def problem_errors(problems: Sequence[ApiError]) -> dict[str, str]:
    """Every problem beside its field, the first one per field (see :func:`api_error`)."""
    errors: dict[str, str] = {}
    for problem in problems:
        for key, message in api_error(problem).items():
            errors.setdefault(key, message)
    return errors


def api_error(exc: ApiError, *, full_paths: bool = False) -> dict[str, str]:
    """Every problem of an error beside its field (each message without its ``field:`` prefix).
    Fields are the form's inputs (``webhooks.0.url`` shows at ``webhooks``, a destination's
    ``rabbitmq.url`` at ``rabbitmq.url``), or, with ``full_paths``, the whole path, for pages
    that list problems of a document; two problems of one input share its place."""
    shown: dict[str, str] = {}
    for problem in getattr(exc, "problems", None) or (exc,):
        field = problem.field or FORM_ERROR
        key = field if full_paths else destination_form.error_key(field)
        message = problem.field_message
        shown[key] = f"{shown[key]}; {message}" if key in shown else message
    return shown


def split_list(text: str) -> list[str]:
    """Items separated by commas or new lines, blanks dropped."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def json_field(text: str, name: str, errors: dict[str, str]) -> Any:
    """The JSON a text field holds (None when blank); invalid JSON is an error beside it."""
    if not text.strip():
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        errors[name] = f"not valid JSON: {exc}"
        return None


def _numbers(text: str, name: str, errors: dict[str, str]) -> list[float] | None:
    parts = split_list(text)
    try:
        return [float(p) for p in parts] or None
    except ValueError:
        errors[name] = "give delays in seconds separated by commas, e.g. 0, 5, 300"
        return None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def blank_number(value: float | None) -> str:
    """A number as a form shows it; None (not set) as an empty field."""
    return "" if value is None else _number(value)
