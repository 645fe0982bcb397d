"""Webhooks: create, change, enable or disable, delete, rotate the signing secret.

Every front door (REST API, dashboard, flow import) saves webhooks through these, so the checks
are the same everywhere: the configuration validates whole (``WebhookConfig``), the signing
secret suits the signature schemes, and what it names exists (``webhook_checks``). A change
merges into the stored configuration and is validated merged; a header sent back masked keeps
its stored value. Sending a test event and previewing a request are in ``webhook_tests``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from hookline.domain import signing
from hookline.domain.field_errors import describe
from hookline.domain.ids import new_id
from hookline.domain.models import Page, SecretEntry, Webhook, WebhookConfig
from hookline.errors import ApiError, NotFound, ValidationFailed
from hookline.services.deps import Deps
from hookline.services.webhook_checks import (
    reference_problems,
    restored_headers,
    schemes_problem,
    secret_problem,
)

__all__ = [
    "GENERATE",
    "create",
    "delete",
    "draft_problems",
    "list_page",
    "load",
    "merged_config",
    "rotate_secret",
    "set_enabled",
    "update",
]

#: The secret that asks Hookline to generate one.
GENERATE = "generate"
_DEFAULT_SCHEMES = ["standard"]


async def load(deps: Deps, ws: str, webhook_id: str) -> Webhook:
    """The webhook; :class:`NotFound` if the workspace has no such webhook."""
    found = await deps.store.get_webhook(ws, webhook_id)
    if found is None:
        raise NotFound(f"webhook {webhook_id} not found")
    return found


async def list_page(
    deps: Deps,
    ws: str,
    *,
    limit: int = 50,
    cursor: str | None = None,
    enabled: bool | None = None,
    flow_id: str | None = None,
    search: str | None = None,
) -> Page:
    """One page of the workspace's webhooks, optionally only enabled (or disabled) ones, those
    of one flow, or those whose name or URL contains ``search``."""
    return await deps.store.list_webhooks(
        ws, limit=limit, cursor=cursor, enabled=enabled, flow_id=flow_id, search=search
    )


async def create(deps: Deps, ws: str, config: WebhookConfig, secret: str | None) -> Webhook:
    """A new webhook. ``secret``: its signing secret, :data:`GENERATE` for a new one, None for
    none (then it may have no signature schemes); the schemes default to ``standard``."""
    config = config.model_copy(update={"headers": restored_headers(config.headers, {})})
    if secret == GENERATE:
        secret = signing.generate_secret()
    config, secrets = _signed(config, secret)
    hook_id = new_id("wh")
    await _check(deps, ws, config, None)
    now = time.time()
    hook = Webhook(hook_id, ws, config, secrets, now, now)
    await deps.store.save_webhook(hook, create=True)
    return hook


def _signed(
    config: WebhookConfig, secret: str | None
) -> tuple[WebhookConfig, tuple[SecretEntry, ...]]:
    if secret is None:
        _raise(schemes_problem(config.signature_schemes, has_secret=False))
        return config, ()
    schemes = config.signature_schemes or _DEFAULT_SCHEMES
    _raise(secret_problem(secret, schemes))
    return config.model_copy(update={"signature_schemes": schemes}), (SecretEntry(secret),)


def merged_config(current: Webhook, changes: Mapping[str, Any]) -> WebhookConfig:
    """The stored configuration with ``changes`` applied (a ``headers`` mapping replaces the
    headers whole, masked values keeping their stored ones), validated whole: raises
    ``pydantic.ValidationError`` with every problem, for a form that shows them all."""
    changes = dict(changes)
    if changes.get("headers") is not None:
        changes["headers"] = restored_headers(changes["headers"], current.config.headers)
    return WebhookConfig.model_validate(current.config.model_dump() | changes)


async def update(deps: Deps, ws: str, webhook_id: str, changes: Mapping[str, Any]) -> Webhook:
    """Change some fields (see :func:`merged_config`; an invalid result raises
    :class:`ValidationFailed` naming its first problem). Disabling records why, unless the
    webhook was already disabled with a reason (such as a 410 Gone)."""
    current = await load(deps, ws, webhook_id)
    try:
        config = merged_config(current, changes)
    except ValidationError as exc:
        field, message = describe(exc.errors()[0])
        raise ValidationFailed(f"{field}: {message}" if field else message, field=field) from None
    _raise(schemes_problem(config.signature_schemes, has_secret=bool(current.secrets)))
    if current.secrets and config.signature_schemes:
        schemes = config.signature_schemes
        _raise(secret_problem(current.secrets[0].secret, schemes, field="signature_schemes"))
    await _check(deps, ws, config, webhook_id)
    reason = None if config.enabled else current.disabled_reason or "disabled by a user"
    updated = replace(current, config=config, updated_at=time.time(), disabled_reason=reason)
    await deps.store.save_webhook(updated, create=False)
    return updated


async def set_enabled(deps: Deps, ws: str, webhook_id: str, enabled: bool) -> Webhook:
    """Enable the webhook (its held deliveries go out in order) or disable it (its deliveries
    are made and held)."""
    return await update(deps, ws, webhook_id, {"enabled": enabled})


async def delete(deps: Deps, ws: str, webhook_id: str) -> None:
    if not await deps.store.delete_webhook(ws, webhook_id):
        raise NotFound(f"webhook {webhook_id} not found")


async def rotate_secret(
    deps: Deps,
    ws: str,
    webhook_id: str,
    secret: str | None = None,
    grace_seconds: float | None = None,
) -> str:
    """A new signing secret (``secret``, else a generated one), answered; the previous one
    keeps signing for ``grace_seconds`` (default ``HOOKLINE_ROTATION_GRACE_SECONDS``)."""
    current = await load(deps, ws, webhook_id)
    secret = secret or signing.generate_secret()
    schemes = current.config.signature_schemes or _DEFAULT_SCHEMES
    _raise(secret_problem(secret, schemes, field="signature_schemes"))
    now = time.time()
    grace = deps.settings.rotation_grace_seconds if grace_seconds is None else grace_seconds
    kept = [SecretEntry(s.secret, now + grace) for s in current.secrets[:1] if grace > 0]
    kept += [s for s in current.secrets[1:] if s.expires_at is not None and s.expires_at > now]
    config = current.config.model_copy(update={"signature_schemes": schemes})
    updated = replace(current, config=config, secrets=(SecretEntry(secret), *kept), updated_at=now)
    await deps.store.save_webhook(updated, create=False)
    return secret


async def draft_problems(
    deps: Deps,
    ws: str,
    data: Mapping[str, Any],
    *,
    secret: str | None = None,
    current: Webhook | None = None,
) -> list[ApiError]:
    """Every problem a save of ``data`` would meet, at once, for a form that shows them all:
    a new webhook's configuration with ``secret``, or changes to ``current``. A save reports
    the first of them."""
    problems: list[ApiError] = []
    config = None
    try:
        if current is None:
            config = WebhookConfig.model_validate(dict(data))
        else:
            config = merged_config(current, data)
    except ValidationError as exc:
        problems += [_invalid(error) for error in exc.errors()]
    except ApiError as exc:  # a masked header with no stored value
        problems.append(exc)
    if config is not None:
        problems += _secret_problems(config, secret, current)
    events, flow, url = (config.events, config.flow, config.url) if config else _raw(data)
    problems += await reference_problems(
        deps, ws, events=events, flow=flow, url=url, own_id=current.id if current else None
    )
    return problems


def _invalid(error: Any) -> ApiError:
    field, message = describe(error)
    return ValidationFailed(f"{field}: {message}" if field else message, field=field)


def _secret_problems(
    config: WebhookConfig, secret: str | None, current: Webhook | None
) -> list[ApiError]:
    schemes = config.signature_schemes
    if current is not None:
        stored = current.secrets[0].secret if current.secrets else None
        found = [schemes_problem(schemes, has_secret=stored is not None)]
        if stored is not None and schemes:
            found.append(secret_problem(stored, schemes, field="signature_schemes"))
    elif secret is None:
        found = [schemes_problem(schemes, has_secret=False)]
    else:
        generated = secret == GENERATE
        found = [None if generated else secret_problem(secret, schemes or _DEFAULT_SCHEMES)]
    return [p for p in found if p is not None]


def _raw(data: Mapping[str, Any]) -> tuple[list[str], str | None, str | None]:
    """What a configuration that does not validate refers to, where it is of the right type."""
    events = data.get("events")
    named = [e for e in events if isinstance(e, str)] if isinstance(events, list) else []
    flow, url = data.get("flow"), data.get("url")
    return named, flow if isinstance(flow, str) else None, url if isinstance(url, str) else None


async def _check(deps: Deps, ws: str, config: WebhookConfig, own_id: str | None) -> None:
    problems = await reference_problems(
        deps, ws, events=config.events, flow=config.flow, url=config.url, own_id=own_id
    )
    if problems:
        raise problems[0]


def _raise(problem: Exception | None) -> None:
    if problem is not None:
        raise problem
