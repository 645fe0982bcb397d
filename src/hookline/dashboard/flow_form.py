"""The flow form: its values from a stored flow or a submission, the flow they describe, and
every problem with it keyed by the field it belongs beside.

The rules are the API's: the submission is read as the REST API's ``FlowIn`` (the name and the
trigger, ``FlowConfig``), so a form and an API request are refused for the same reasons in the
same words. The form only reads what a browser cannot send typed: a list of patterns and JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import ValidationError

from hookline.dashboard.forms import Form
from hookline.dashboard.webhook_form import blank_number, json_field, split_list, validation_errors
from hookline.domain.models import Flow, FlowConfig
from hookline.wire.schemas import FlowIn

FIELDS = "name description events filter aggregation_seconds aggregation_max_events".split()


def values_from_flow(flow: Flow) -> dict[str, str]:
    """What the form shows for a stored flow: one event pattern a line."""
    config = flow.config
    return {
        "name": flow.name,
        "description": flow.description,
        "events": "\n".join(config.events),
        "filter": "" if config.filter is None else orjson.dumps(config.filter).decode(),
        "aggregation_seconds": str(config.aggregation_seconds),
        "aggregation_max_events": blank_number(config.aggregation_max_events),
    }


def blank_values() -> dict[str, str]:
    """A new flow: triggered by every event, no window."""
    defaults = FlowConfig()
    return {
        "name": "",
        "description": "",
        "events": "\n".join(defaults.events),
        "filter": "",
        "aggregation_seconds": str(defaults.aggregation_seconds),
        "aggregation_max_events": "",
    }


def values_from_form(form: Form) -> dict[str, str]:
    """What the form shows again after a submission, as typed."""
    return {name: form.get(name) for name in FIELDS}


def read(values: Mapping[str, str]) -> tuple[FlowIn | None, dict[str, str]]:
    """The flow the values describe, or None and every problem beside its field (the form's own
    ones, such as JSON that does not parse, together with the API's)."""
    errors: dict[str, str] = {}
    body: dict[str, Any] = {
        "name": values["name"],
        "description": values["description"],
        "events": split_list(values["events"]),
        "filter": json_field(values["filter"], "filter", errors),
        "aggregation_max_events": values["aggregation_max_events"].strip() or None,
    }
    if values["aggregation_seconds"].strip():
        body["aggregation_seconds"] = values["aggregation_seconds"].strip()
    try:
        flow = FlowIn.model_validate(body)
    except ValidationError as exc:
        return None, validation_errors(exc) | errors
    return (None, errors) if errors else (flow, {})


def config_of(flow: FlowIn) -> FlowConfig:
    """The trigger and window of a submitted flow, as the service stores them."""
    return FlowConfig.model_validate(flow.model_dump(exclude={"name", "description"}))
