"""A Svix endpoint as a Hookline webhook configuration, and back: the one translation every
endpoint route shares.

An endpoint created here signs with Svix's headers (``svix-id``, ``svix-timestamp``,
``svix-signature``: Hookline's ``svix`` scheme), takes every event type when it names none, and
is named by its uid (or a generated name: a Hookline webhook's name is unique in its
workspace, an endpoint has none).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from hookline.api.svix import shapes
from hookline.api.svix.errors import fields_named
from hookline.domain.field_errors import problems
from hookline.domain.models import WebhookConfig
from hookline.errors import ValidationFailed

#: A webhook's field names as the Svix API calls an endpoint's, for its 422s.
ENDPOINT_FIELDS = {"events": "eventTypes", "rate_limit_per_second": "throttleRate",
                   "enabled": "disabled", "signature_schemes": "secret"}  # fmt: skip


def secret_of(key: str | None) -> str | None:
    """A secret as Hookline keeps it: ``whsec_`` and base64 (Svix accepts it without the
    prefix)."""
    if key is None:
        return None
    return key if key.startswith("whsec_") else f"whsec_{key}"


def _types(body: shapes.EndpointIn | shapes.EndpointPatch) -> list[str]:
    types = body.event_types if body.event_types is not None else body.filter_types
    return list(types) if types else ["*"]


def changes_of(body: shapes.EndpointIn | shapes.EndpointPatch, *, whole: bool) -> dict[str, Any]:
    """The webhook fields a body sets: every field (``whole``: PUT, create) or those it names."""
    given = body.model_fields_set
    changes: dict[str, Any] = {}
    if whole or "url" in given:
        changes["url"] = body.url
    if whole or "description" in given:
        changes["description"] = body.description or ""
    if whole or "disabled" in given:
        changes["enabled"] = not body.disabled
    if whole or body.rate_given:
        changes["rate_limit_per_second"] = float(body.rate) if body.rate else None
    if whole or given & {"event_types", "filter_types"}:
        changes["events"] = _types(body)
    if whole or "channels" in given:
        changes["channels"] = body.channels or None
    if whole or "metadata" in given:
        changes["metadata"] = body.metadata or {}
    if whole or "uid" in given:
        changes["uid"] = body.uid
    return changes


def new_config(body: shapes.EndpointIn) -> WebhookConfig:
    """A new endpoint's webhook configuration (422 listing every problem)."""
    data = changes_of(body, whole=True) | {
        "name": body.uid or _generated_name(body.url),
        "signature_schemes": ["svix"],
        "headers": body.headers or {},
    }
    with fields_named(ENDPOINT_FIELDS):
        try:
            return WebhookConfig.model_validate(data)
        except ValidationError as exc:
            raise ValidationFailed(problems=problems(exc.errors())) from None


def _generated_name(url: str) -> str:
    host = urlsplit(url).hostname or "endpoint"
    return f"{host[:150]} {secrets.token_hex(4)}"


def header_changes(current: Mapping[str, str], patch: Mapping[str, str | None]) -> dict[str, str]:
    """Headers after a patch: a null value removes the header (header names match in any
    case, as HTTP's do)."""
    merged = dict(current)
    for name, value in patch.items():
        for existing in [k for k in merged if k.lower() == name.lower()]:
            del merged[existing]
        if value is not None:
            merged[name] = value
    return merged
