"""The checks a webhook's configuration passes before it is saved, beyond its own validation
(``WebhookConfig``): the event types and the flow it names exist in the workspace, the flow has
room for it, its URL's host (or its broker's) is an address Hookline may send to, a broker
kind's client library is installed, and its signing secret suits its signature schemes.

Each check reports its problem as the error the save raises (``ValidationFailed`` or
``LimitExceeded``, naming the field), and a save reports every problem it finds at once
(``hookline.errors.raise_every``), as a form shows them. Every front door that saves a webhook
or sends to a URL (webhooks, flow import, the inspector's replay) checks with these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hookline.delivery.destinations.pool import missing_extra
from hookline.delivery.notices import PREFIX as NOTICE_PREFIX
from hookline.delivery.resolver import check_url_host
from hookline.domain import destinations, secret_headers, signing
from hookline.domain.address_policy import AddressPolicy, BlockedAddress, check_literal_host
from hookline.domain.models import WebhookConfig
from hookline.errors import ApiError, LimitExceeded, SigningError, ValidationFailed
from hookline.services.deps import Deps

__all__ = [
    "GENERATE",
    "broker_problems",
    "new_secret_problem",
    "reference_problems",
    "restored_broker",
    "restored_headers",
    "schemes_problem",
    "secret_problem",
    "url_problem",
]

#: The secret that asks Hookline to generate one.
GENERATE = "generate"


async def reference_problems(
    deps: Deps,
    ws: str,
    *,
    events: Sequence[str],
    flow: str | None,
    url: str | None,
    own_id: str | None,
) -> list[ApiError]:
    """Every problem with what a configuration refers to, in field order: unknown event types,
    a missing or full flow, a URL whose host Hookline may not send to. ``own_id``: the webhook
    being edited (None when creating)."""
    problems: list[ApiError | None] = []
    unknown = await _unknown_event_type(deps, ws, events)
    if unknown is not None:
        problems.append(
            ValidationFailed(
                f"events: unknown event type {unknown!r}; create it under /event-types first",
                field="events",
            )
        )
    if flow is not None:
        problems += await _flow_problems(deps, ws, flow, own_id)
    if url is not None:
        problems.append(url_problem(deps, url))
    return [p for p in problems if p is not None]


async def _unknown_event_type(deps: Deps, ws: str, events: Sequence[str]) -> str | None:
    named = [p for p in events if p != "*" and not p.endswith(".*")]
    # Hookline's operational events need no catalog entry.
    named = [p for p in named if not p.startswith(NOTICE_PREFIX)]
    if not named:
        return None
    known = {et.name for et in await deps.store.catalog.workspace_event_types(ws)}
    return next((p for p in named if p not in known), None)


async def _flow_problems(deps: Deps, ws: str, flow: str, own_id: str | None) -> list[ApiError]:
    if await deps.store.config.get_flow(ws, flow) is None:
        return [ValidationFailed(f"flow: flow {flow!r} not found", field="flow")]
    count = await deps.store.config.count_flow_webhooks(ws, flow)
    current = None if own_id is None else await deps.store.config.get_webhook(ws, own_id)
    already_in = current is not None and current.config.flow == flow
    most = deps.settings.max_webhooks_per_flow
    if not already_in and count >= most:
        return [LimitExceeded(f"flow: a flow holds at most {most} webhooks", field="flow")]
    return []


def url_problem(deps: Deps, url: str, field: str = "url") -> ApiError | None:
    """Why Hookline may not send to ``url`` (its host is an address the policy,
    ``HOOKLINE_ALLOWED_NETWORKS``, refuses), reported on ``field``; None if it may."""
    try:
        check_url_host(url, AddressPolicy(deps.settings.allowed_networks))
    except (BlockedAddress, ValueError) as exc:
        return ValidationFailed(f"{field}: {exc}", field=field)
    return None


def broker_problems(deps: Deps, config: WebhookConfig, where: str = "") -> list[ApiError]:
    """Why a broker action cannot publish: its kind's client library is missing (the extra to
    install is named), or its broker's host is an address the policy refuses. ``where``
    prefixes the field names (a flow import's ``webhooks.3.``)."""
    action = config.broker
    if action is None:
        return []
    kind = config.kind
    extra = missing_extra(kind)
    if extra is not None:
        module = destinations.EXTRAS[kind][0]
        return [
            ValidationFailed(
                f"{where}kind: {kind} destinations need the {module} library, which is not"
                f" installed: pip install 'hookline[{extra}]'",
                field=f"{where}kind",
                code="extra_not_installed",
            )
        ]
    field = f"{where}{kind}.url"
    if destinations.is_masked(action.url):
        return [
            ValidationFailed(
                f"{field}: the password is masked ({destinations.MASK!r}) and no password is"
                " stored for it: give the real one",
                field=field,
            )
        ]
    host, _ = destinations.host_and_port(kind, action.url)
    try:
        check_literal_host(host, AddressPolicy(deps.settings.allowed_networks))
    except BlockedAddress as exc:
        return [ValidationFailed(f"{field}: {exc}", field=field)]
    return []


def restored_broker(changes: dict[str, Any], current: WebhookConfig) -> None:
    """An edit's broker settings (in place): a masked password in the URL it sends keeps the
    stored one, when the URL still names the same broker and user."""
    kind = changes.get("kind", current.kind)
    sent = changes.get(kind) if isinstance(kind, str) else None
    stored = current.broker
    if not isinstance(sent, dict) or not isinstance(sent.get("url"), str):
        return
    if not destinations.is_masked(sent["url"]):
        return
    try:
        url = destinations.restore_url(
            sent["url"], stored.url if stored is not None and current.kind == kind else None
        )
    except ValueError as exc:
        raise ValidationFailed(f"{kind}.url: {exc}", field=f"{kind}.url") from None
    changes[kind] = sent | {"url": url}


def secret_problem(secret: str, schemes: Sequence[str], field: str = "secret") -> ApiError | None:
    """Why ``secret`` cannot sign with ``schemes`` (reported on ``field``); None if it can."""
    try:
        signing.validate_secret(secret, schemes)
    except SigningError as exc:
        return ValidationFailed(f"{field}: {exc}", field=field)
    return None


def new_secret_problem(
    schemes: Sequence[str], secret: str | None, field: str = "secret"
) -> ApiError | None:
    """Why a new webhook cannot sign with ``secret`` (:data:`GENERATE`: a generated one; None:
    none, and then it may name no schemes); its schemes default to ``standard``."""
    if secret is None:
        return schemes_problem(schemes, has_secret=False)
    if secret == GENERATE:
        return None
    return secret_problem(secret, signing.schemes_or_default(schemes), field)


def schemes_problem(schemes: Sequence[str], has_secret: bool) -> ApiError | None:
    """Signature schemes without a secret to sign with."""
    if schemes and not has_secret:
        return ValidationFailed("signature_schemes need a secret", field="secret")
    return None


def restored_headers(sent: dict[str, str], stored: dict[str, str]) -> dict[str, str]:
    """The headers of a create or an edit, each masked value replaced by the stored one."""
    try:
        return secret_headers.restore(sent, stored)
    except ValueError as exc:
        raise ValidationFailed(f"headers: {exc}", field="headers") from None
