"""A flow document's webhooks (``hookline.services.flow_import``), checked as new webhooks are
(``webhook_checks``: the configuration, the signing secret, the URL against the address
policy) and across the document (the per-flow limit, a name given twice), every problem found.

A signed webhook exported without its secret gets a newly generated one, and header values
exported masked (credentials, without ``include_secrets``) are left out, to be set again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from hookline.domain import secret_headers
from hookline.domain.destinations import BROKER_KINDS, is_masked, without_password
from hookline.domain.field_errors import problems as field_problems
from hookline.domain.models import SecretEntry, WebhookConfig
from hookline.domain.records import record
from hookline.errors import ApiError, LimitExceeded, ValidationFailed
from hookline.services.deps import Deps
from hookline.services.webhook_checks import (
    GENERATE,
    broker_problems,
    new_secret_problem,
    url_problem,
)
from hookline.services.webhooks import signed

__all__ = ["PlannedWebhook", "planned_webhooks"]


@record
class PlannedWebhook:
    """A document's webhook as it will be created (its flow set then)."""

    config: WebhookConfig
    secrets: tuple[SecretEntry, ...]
    generated: bool  # a new signing secret: show it, once
    left_out: tuple[str, ...] = ()  # headers exported masked
    password_left_out: str | None = None  # the broker URL field exported with a masked password


def planned_webhooks(
    deps: Deps, webhooks: Sequence[dict[str, Any]]
) -> tuple[list[PlannedWebhook], list[ApiError]]:
    """The document's webhooks as they will be created, and every problem with them (in
    document order, each webhook's own before those across the document)."""
    plans = [_plan(i, raw) for i, raw in enumerate(webhooks)]
    problems = [problem for _, found in plans for problem in found]
    planned = [p for p, _ in plans]
    problems += _document_problems(deps, planned)
    return [p for p in planned if p is not None], problems


def _plan(index: int, raw: dict[str, Any]) -> tuple[PlannedWebhook | None, list[ApiError]]:
    """A document's webhook as a new webhook would be created, or its problems."""
    where = f"webhooks.{index}"
    data, left_out = _unmasked(raw)
    password_left_out = _without_masked_password(data)
    problems: list[ApiError] = []
    config = None
    try:
        config = WebhookConfig.model_validate(data)
    except ValidationError as exc:
        problems += field_problems(exc.errors(), where)
    secret = raw.get("secret")
    if secret is not None and not isinstance(secret, str):
        problems.append(
            ValidationFailed(f"{where}.secret: must be a string", field=f"{where}.secret")
        )
    if problems or config is None:
        return None, problems
    planned, found = _signed_plan(where, config, secret, left_out)
    if planned is not None and password_left_out is not None:
        planned = replace(planned, password_left_out=password_left_out)
    return planned, found


def _unmasked(raw: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A webhook's configuration without its secret and flow, and without the headers whose
    values were exported masked (their names, to list them as left out)."""
    data = {k: v for k, v in raw.items() if k not in ("secret", "flow")}
    if not isinstance(data.get("headers"), dict):
        return data, ()
    left_out = tuple(secret_headers.masked(data["headers"]))
    data["headers"] = {k: v for k, v in data["headers"].items() if k not in left_out}
    return data, left_out


def _without_masked_password(data: dict[str, Any]) -> str | None:
    """A broker URL exported with its password masked loses the password (in place): the
    action is imported without one, and the field is named so that the user sets it."""
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in BROKER_KINDS:
        return None
    broker = data.get(kind)
    if not isinstance(broker, dict) or not isinstance(broker.get("url"), str):
        return None
    if not is_masked(broker["url"]):
        return None
    data[kind] = broker | {"url": without_password(broker["url"])}
    return f"{kind}.url"


def _signed_plan(
    where: str, config: WebhookConfig, secret: str | None, left_out: tuple[str, ...]
) -> tuple[PlannedWebhook | None, list[ApiError]]:
    """Signing as a new webhook's (``webhook_checks.new_secret_problem``), except that a signed
    webhook exported without its secret gets a newly generated one."""
    if secret is None and config.signature_schemes:
        secret = GENERATE
    problem = new_secret_problem(config.signature_schemes, secret, f"{where}.secret")
    if problem is not None:
        return None, [problem]
    config, secrets = signed(config, secret)
    return PlannedWebhook(config, secrets, secret == GENERATE, left_out), []


def _document_problems(deps: Deps, planned: list[PlannedWebhook | None]) -> list[ApiError]:
    """Across the document's webhooks: the per-flow limit, a name twice, a URL Hookline may
    not send to."""
    problems: list[ApiError | None] = []
    limit = deps.settings.max_webhooks_per_flow
    if len(planned) > limit:
        message = f"webhooks: a flow holds at most {limit} webhooks"
        problems.append(LimitExceeded(message, field="webhooks"))
    seen: set[str] = set()
    for i, p in enumerate(planned):
        if p is None:
            continue
        if p.config.name in seen:
            problems.append(
                ValidationFailed(
                    f"webhooks.{i}.name: {p.config.name!r} appears twice in the document",
                    field=f"webhooks.{i}.name",
                )
            )
        seen.add(p.config.name)
        if p.config.url is not None:
            problems.append(url_problem(deps, p.config.url, f"webhooks.{i}.url"))
        problems += broker_problems(deps, p.config, f"webhooks.{i}.")
    return [p for p in problems if p is not None]
