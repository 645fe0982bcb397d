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
from hookline.domain.field_errors import problems as field_problems
from hookline.domain.ids import new_id
from hookline.domain.models import Page, SecretEntry, Webhook, WebhookConfig
from hookline.errors import ApiError, NotFound, raise_every
from hookline.services.deps import Deps
from hookline.services.webhook_checks import (
    GENERATE,
    broker_problems,
    new_secret_problem,
    reference_problems,
    restored_broker,
    restored_headers,
    schemes_problem,
    secret_problem,
)
from hookline.store import LogPage

#: The ``disabled_reason`` of a webhook a user disabled (Hookline names its own reasons).
DISABLED_BY_USER = "disabled by a user"

__all__ = [
    "DISABLED_BY_USER",
    "GENERATE",
    "create",
    "delete",
    "draft_problems",
    "list_page",
    "load",
    "merged_config",
    "page",
    "rotate_secret",
    "set_enabled",
    "signed",
    "update",
]


async def load(deps: Deps, ws: str, webhook_id: str) -> Webhook:
    """The webhook; :class:`NotFound` if the workspace has no such webhook."""
    found = await deps.store.config.get_webhook(ws, webhook_id)
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
    return await deps.store.config.list_webhooks(
        ws, limit=limit, cursor=cursor, enabled=enabled, flow_id=flow_id, search=search
    )


async def page(
    deps: Deps, ws: str, *, limit: int, cursor: str | None, backwards: bool = False
) -> LogPage:
    """The workspace's webhooks oldest first after ``cursor``, or the page before it."""
    return await deps.store.config.page_webhooks(
        ws, limit=limit, cursor=cursor, backwards=backwards
    )


async def create(deps: Deps, ws: str, config: WebhookConfig, secret: str | None) -> Webhook:
    """A new webhook. ``secret``: its signing secret, :data:`GENERATE` for a new one, None for
    none (then it may have no signature schemes); the schemes default to ``standard``. Every
    problem found is reported at once (``hookline.errors.raise_every``)."""
    config, problems = _unmasked(config)
    raise_every(problems + await _config_problems(deps, ws, config, secret, None))
    config, secrets = signed(config, secret)
    now = time.time()
    hook = Webhook(new_id("wh"), ws, config, secrets, now, now)
    await deps.store.config.save_webhook(hook, create=True)
    return hook


def signed(
    config: WebhookConfig, secret: str | None
) -> tuple[WebhookConfig, tuple[SecretEntry, ...]]:
    """A new webhook's configuration and secrets for ``secret`` (checked already: see
    ``webhook_checks.new_secret_problem``); :data:`GENERATE` makes a new one."""
    if secret is None:
        return config, ()
    schemes = signing.schemes_or_default(config.signature_schemes)
    if secret == GENERATE:
        secret = signing.generate_secret_for(schemes)
    return config.model_copy(update={"signature_schemes": schemes}), (SecretEntry(secret),)


def merged_config(current: Webhook, changes: Mapping[str, Any]) -> WebhookConfig:
    """The stored configuration with ``changes`` applied (a ``headers`` mapping replaces the
    headers whole, masked values keeping their stored ones), validated whole: raises
    ``pydantic.ValidationError`` with every problem, for a form that shows them all."""
    changes = dict(changes)
    if changes.get("headers") is not None:
        changes["headers"] = restored_headers(changes["headers"], current.config.headers)
    restored_broker(changes, current.config)
    return WebhookConfig.model_validate(current.config.model_dump() | changes)


async def update(deps: Deps, ws: str, webhook_id: str, changes: Mapping[str, Any]) -> Webhook:
    """Change some fields (see :func:`merged_config`; every problem with the result is reported
    at once, as :func:`draft_problems` finds them). Disabling records why, unless the webhook
    was already disabled with a reason (such as a 410 Gone)."""
    current = await load(deps, ws, webhook_id)
    config, problems = await _draft(deps, ws, changes, secret=None, current=current)
    raise_every(problems)
    assert config is not None
    reason = None if config.enabled else current.disabled_reason or DISABLED_BY_USER
    updated = replace(current, config=config, updated_at=time.time(), disabled_reason=reason)
    await deps.store.config.save_webhook(updated, create=False)
    return updated


async def set_enabled(deps: Deps, ws: str, webhook_id: str, enabled: bool) -> Webhook:
    """Enable the webhook (its held deliveries go out in order) or disable it (its deliveries
    are made and held)."""
    return await update(deps, ws, webhook_id, {"enabled": enabled})


async def delete(deps: Deps, ws: str, webhook_id: str) -> None:
    if not await deps.store.config.delete_webhook(ws, webhook_id):
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
    schemes = signing.schemes_or_default(current.config.signature_schemes)
    secret = secret or signing.generate_secret_for(schemes)
    problem = secret_problem(secret, schemes, field="signature_schemes")
    if problem is not None:
        raise problem
    now = time.time()
    grace = deps.settings.rotation_grace_seconds if grace_seconds is None else grace_seconds
    kept = [SecretEntry(s.secret, now + grace) for s in current.secrets[:1] if grace > 0]
    kept += [s for s in current.secrets[1:] if s.expires_at is not None and s.expires_at > now]
    config = current.config.model_copy(update={"signature_schemes": schemes})
    updated = replace(current, config=config, secrets=(SecretEntry(secret), *kept), updated_at=now)
    await deps.store.config.save_webhook(updated, create=False)
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
    the same problems."""
    return (await _draft(deps, ws, data, secret=secret, current=current))[1]


async def _draft(
    deps: Deps,
    ws: str,
    data: Mapping[str, Any],
    *,
    secret: str | None,
    current: Webhook | None,
) -> tuple[WebhookConfig | None, list[ApiError]]:
    """The configuration ``data`` describes (None if it does not validate), and every problem
    with it: its own validation, its signing, then what it refers to."""
    config, problems = _validated(data, current)
    if config is not None:
        return config, problems + await _config_problems(deps, ws, config, secret, current)
    events, flow, url = _raw(data)
    problems += await reference_problems(
        deps, ws, events=events, flow=flow, url=url, own_id=current.id if current else None
    )
    return None, problems


def _validated(
    data: Mapping[str, Any], current: Webhook | None
) -> tuple[WebhookConfig | None, list[ApiError]]:
    """A new webhook's configuration, or the changes merged into ``current``'s; else None and
    why not."""
    try:
        if current is not None:
            return merged_config(current, data), []
        config = WebhookConfig.model_validate(dict(data))
    except ValidationError as exc:
        return None, list(field_problems(exc.errors()))
    except ApiError as exc:  # a masked header with no stored value
        return None, [exc]
    return _unmasked(config)


def _unmasked(config: WebhookConfig) -> tuple[WebhookConfig, list[ApiError]]:
    """A new webhook's headers: none may be sent masked, as none has a stored value."""
    try:
        return config.model_copy(update={"headers": restored_headers(config.headers, {})}), []
    except ApiError as exc:
        return config, [exc]


async def _config_problems(
    deps: Deps, ws: str, config: WebhookConfig, secret: str | None, current: Webhook | None
) -> list[ApiError]:
    """A valid configuration's problems: its signing, then what it refers to."""
    found = _secret_problems(config, secret, current) + broker_problems(deps, config)
    return found + await reference_problems(
        deps,
        ws,
        events=config.events,
        flow=config.flow,
        url=config.url,
        own_id=current.id if current else None,
    )


def _secret_problems(
    config: WebhookConfig, secret: str | None, current: Webhook | None
) -> list[ApiError]:
    schemes = config.signature_schemes
    if current is None:
        found = [new_secret_problem(schemes, secret)]
    else:
        stored = current.secrets[0].secret if current.secrets else None
        found = [schemes_problem(schemes, has_secret=stored is not None)]
        if stored is not None and schemes:
            found.append(secret_problem(stored, schemes, field="signature_schemes"))
    return [p for p in found if p is not None]


def _raw(data: Mapping[str, Any]) -> tuple[list[str], str | None, str | None]:
    """What a configuration that does not validate refers to, where it is of the right type."""
    events = data.get("events")
    named = [e for e in events if isinstance(e, str)] if isinstance(events, list) else []
    flow, url = data.get("flow"), data.get("url")
    return named, flow if isinstance(flow, str) else None, url if isinstance(url, str) else None
