"""The customer portal's endpoints: what a customer sees of their workspace's webhooks and what
they may do to them, over ``services.webhooks`` and ``services.webhook_tests``.

A customer's **endpoints** are the workspace's HTTP webhooks outside any flow, and its broker
actions (RabbitMQ, NATS, Redis streams, MQTT) of the kinds the link allows
(``PortalLink.destination_kinds``, ``Customer.may_use_kind``): an e-mail action, a flow's
member or a broker action of a kind the link does not allow is the operator's, and is "not
found" here, as another workspace's webhook is. A customer sets only an endpoint's name,
description, kind and where it goes (the URL of an HTTP endpoint, a broker kind's settings:
``domain.destinations``), event types (each one the link lets them subscribe to:
``Customer.may_subscribe``, and no name of a catalog entry the link's feature flags hide:
``Customer.may_see_entry``), custom headers, rate limit and whether it is enabled; everything
else (signature schemes, retries, templates, filters…) keeps the endpoint's value, or the
default for a new endpoint, which gets a generated signing secret. A kind the link does not
allow is refused as an event type it does not allow is: a 422 naming ``kind``.

A broker URL's password is never shown (``destinations.mask_url``); an edit that sends the
masked URL back keeps the stored password (``services.webhooks`` restores it).

Every action is refused through a read-only link and written to the workspace's audit log,
whose detail never holds a secret, a header's value or a URL (which may carry a credential).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import field
from typing import Any

from hookline.domain import signing
from hookline.domain.destinations import BROKER_KINDS
from hookline.domain.models import EventType, Webhook, WebhookConfig
from hookline.domain.portal_access import Customer
from hookline.domain.records import record
from hookline.domain.samples import FALLBACK_TYPE, candidate_types, example_of, sample_event
from hookline.errors import ApiError, NotFound, ValidationFailed, raise_every
from hookline.services import catalog, portal, webhook_tests, webhooks
from hookline.services.deps import Deps
from hookline.services.webhook_tests import TestResult

__all__ = [
    "CUSTOMER_FIELDS",
    "CatalogEntry",
    "EndpointDraft",
    "Secret",
    "create",
    "delete",
    "draft_problems",
    "endpoint",
    "endpoints",
    "event_types",
    "reveal_secret",
    "rotate_secret",
    "sample_type",
    "send_test",
    "set_enabled",
    "status_of",
    "subscribable_patterns",
    "test_types",
    "testable_types",
    "update",
    "visible",
]

#: What a customer may set on an endpoint; every other field of its configuration is kept.
CUSTOMER_FIELDS = (
    *("name", "description", "url", "events", "headers", "enabled"),
    *("rate_limit_per_second", "kind", *BROKER_KINDS),
)
_PAGE = 200


@record
class EndpointDraft:
    """An endpoint as a customer describes it (every field they may set). ``kind``:
    ``webhook`` (HTTP, to ``url``) or a broker kind, whose settings are ``broker`` (the keys of
    its ``domain.destinations`` action; its URL's password may be the mask, to keep the stored
    one)."""

    name: str
    url: str = ""
    description: str = ""
    events: tuple[str, ...] = ("*",)
    headers: dict[str, str] = field(default_factory=dict)
    enabled: bool = True
    rate_limit_per_second: float | None = None
    kind: str = "webhook"
    broker: dict[str, Any] | None = None

    def body(self) -> dict[str, Any]:
        """The webhook fields it sets (``services.webhooks``' configuration keys), with the
        settings of the kind chosen."""
        http = self.kind == "webhook"
        found: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "url": self.url if http else None,
            "events": list(self.events),
            "headers": dict(self.headers),
            "enabled": self.enabled,
            "rate_limit_per_second": self.rate_limit_per_second,
            "kind": self.kind,
        }
        return found if http else found | {self.kind: self.broker}

    def changes(self, current: Webhook) -> dict[str, Any]:
        """What a save of it changes in ``current``: :meth:`body`, and no settings left of
        another broker kind than the one chosen (an endpoint moved from Redis to HTTP keeps
        no Redis URL)."""
        stale = [k for k in BROKER_KINDS if k != self.kind and getattr(current.config, k)]
        return self.body() | dict.fromkeys(stale)


@record
class CatalogEntry:
    """An event type as a customer sees it: its newest schema and its example payload."""

    name: str
    description: str
    schema: dict[str, Any] | None
    example: Any
    deprecated: bool = False


@record
class Secret:
    """An endpoint's signing secret; ``public_key``: what receivers verify ``ed25519`` with."""

    secret: str | None
    public_key: str | None


def visible(hook: Webhook, customer: Customer | None = None) -> bool:
    """Whether a webhook of the customer's workspace is one of their endpoints: outside any
    flow, HTTP or of a kind the link allows (None: a link that allows HTTP endpoints only)."""
    config = hook.config
    kind_ok = customer.may_use_kind(config.kind) if customer else config.kind == "webhook"
    return kind_ok and config.flow is None


def status_of(hook: Webhook) -> str:
    """``enabled``, ``disabled`` (by a user) or ``auto-disabled`` (by Hookline: the endpoint
    answered 410 Gone, or failed for too long)."""
    if hook.config.enabled:
        return "enabled"
    reason = hook.disabled_reason
    return "disabled" if reason in (None, webhooks.DISABLED_BY_USER) else "auto-disabled"


def subscribable_patterns(customer: Customer) -> list[str]:
    """The wildcard patterns a customer may subscribe to: ``*`` when the link limits nothing,
    else the link's own ``prefix.*`` patterns."""
    allowed = customer.link.event_types
    if allowed is None:
        return ["*"]
    return [p for p in allowed if "*" in p]


async def event_types(deps: Deps, customer: Customer) -> list[CatalogEntry]:
    """The catalog entries (the workspace's and the shared ones) the customer may see."""
    listed = await catalog.list_event_types(deps, customer.workspace_id)
    return [_entry(et) for et in listed if customer.may_see_entry(et)]


def _entry(et: EventType) -> CatalogEntry:
    return CatalogEntry(et.name, et.description, et.schema, example_of(et), et.deprecated)


async def endpoints(deps: Deps, customer: Customer) -> list[Webhook]:
    """Every endpoint of the customer's workspace."""
    found: list[Webhook] = []
    cursor = None
    while True:
        page = await webhooks.list_page(deps, customer.workspace_id, limit=_PAGE, cursor=cursor)
        found += [hook for hook in page.items if visible(hook, customer)]
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


async def endpoint(deps: Deps, customer: Customer, endpoint_id: str) -> Webhook:
    """One of the customer's endpoints; :class:`NotFound` for anything else."""
    found = await deps.store.config.get_webhook(customer.workspace_id, endpoint_id)
    if found is None or not visible(found, customer):
        raise NotFound(f"endpoint {endpoint_id} not found")
    return found


async def draft_problems(
    deps: Deps, customer: Customer, draft: EndpointDraft, current: Webhook | None = None
) -> list[ApiError]:
    """Every problem a save of ``draft`` would meet (a new endpoint, or a change of
    ``current``), at once, in field order."""
    listed = await catalog.list_event_types(deps, customer.workspace_id, include_archived=True)
    own = _event_problems(customer, draft.events, current, listed)
    if not customer.may_use_kind(draft.kind):
        message = f"kind: {draft.kind!r} is not a kind of endpoint this link lets you use"
        return [ValidationFailed(message, field="kind"), *own]
    secret = webhooks.GENERATE if current is None else None
    ws = customer.workspace_id
    body = draft.body() if current is None else draft.changes(current)
    found = await webhooks.draft_problems(deps, ws, body, secret=secret, current=current)
    return own + found


def _event_problems(
    customer: Customer, events: Sequence[str], current: Webhook | None, listed: Sequence[EventType]
) -> list[ApiError]:
    """The patterns the link does not let the customer subscribe to (``listed``: the catalog,
    whose entries hidden from the customer may not be named); a pattern the endpoint has
    already (set by the operator) may stay."""
    kept = set(current.config.events) if current is not None else set()
    hidden = _hidden(customer, listed)
    refused = [
        p for p in events if p not in kept and (p in hidden or not customer.may_subscribe(p))
    ]
    if not refused:
        return []
    return [
        ValidationFailed(
            f"events: {refused[0]!r} is not an event type you may subscribe to", field="events"
        )
    ]


async def create(deps: Deps, customer: Customer, draft: EndpointDraft) -> Webhook:
    """A new endpoint with a generated signing secret; every problem is reported at once."""
    customer.check_write()
    raise_every(await draft_problems(deps, customer, draft))
    config = WebhookConfig.model_validate(draft.body())
    hook = await webhooks.create(deps, customer.workspace_id, config, webhooks.GENERATE)
    detail: dict[str, Any] = {"name": hook.config.name, "events": hook.config.events}
    if hook.config.is_broker:
        detail["kind"] = hook.config.kind
    await portal.audit(deps, customer, "endpoint.created", hook.id, detail)
    return hook


async def update(deps: Deps, customer: Customer, endpoint_id: str, draft: EndpointDraft) -> Webhook:
    """Change what the customer may set; the rest of the configuration stays."""
    customer.check_write()
    current = await endpoint(deps, customer, endpoint_id)
    raise_every(await draft_problems(deps, customer, draft, current))
    changes = draft.changes(current)
    updated = await webhooks.update(deps, customer.workspace_id, endpoint_id, changes)
    old, new = current.config, updated.config
    changed = [f for f in CUSTOMER_FIELDS if getattr(old, f) != getattr(new, f)]
    await portal.audit(deps, customer, "endpoint.updated", endpoint_id, {"changed": changed})
    return updated


async def set_enabled(deps: Deps, customer: Customer, endpoint_id: str, enabled: bool) -> Webhook:
    """Enable the endpoint (its held messages go out) or disable it (they are held)."""
    customer.check_write()
    await endpoint(deps, customer, endpoint_id)
    hook = await webhooks.set_enabled(deps, customer.workspace_id, endpoint_id, enabled)
    action = "endpoint.enabled" if enabled else "endpoint.disabled"
    await portal.audit(deps, customer, action, endpoint_id)
    return hook


async def delete(deps: Deps, customer: Customer, endpoint_id: str) -> None:
    customer.check_write()
    hook = await endpoint(deps, customer, endpoint_id)
    await webhooks.delete(deps, customer.workspace_id, endpoint_id)
    await portal.audit(deps, customer, "endpoint.deleted", endpoint_id, {"name": hook.config.name})


async def reveal_secret(deps: Deps, customer: Customer, endpoint_id: str) -> Secret:
    """The endpoint's current signing secret (None when it has none)."""
    customer.check_write()
    hook = await endpoint(deps, customer, endpoint_id)
    secret = hook.secrets[0].secret if hook.secrets else None
    await portal.audit(deps, customer, "endpoint.secret_revealed", endpoint_id)
    return Secret(secret, signing.public_key(secret) if secret else None)


async def rotate_secret(deps: Deps, customer: Customer, endpoint_id: str) -> Secret:
    """A new generated signing secret, answered; the previous one keeps signing for
    ``HOOKLINE_ROTATION_GRACE_SECONDS``."""
    customer.check_write()
    await endpoint(deps, customer, endpoint_id)
    secret = await webhooks.rotate_secret(deps, customer.workspace_id, endpoint_id)
    await portal.audit(deps, customer, "endpoint.secret_rotated", endpoint_id)
    return Secret(secret, signing.public_key(secret))


async def send_test(
    deps: Deps, customer: Customer, endpoint_id: str, event_type: str | None = None
) -> TestResult:
    """One real delivery, now, of a sample of ``event_type`` (one of :func:`test_types`; None:
    the one :func:`sample_type` picks), recorded as any message is."""
    customer.check_write()
    hook = await endpoint(deps, customer, endpoint_id)
    listed = await catalog.list_event_types(deps, customer.workspace_id, include_archived=True)
    if event_type is None:
        chosen = sample_type(customer, hook.config.events, listed)
    elif event_type in test_types(customer, hook.config.events, listed):
        chosen = event_type
    else:
        message = f"event_type: {event_type!r} is not a type this endpoint receives that you see"
        raise ValidationFailed(message, field="event_type")
    result = await webhook_tests.send_test(deps, customer.workspace_id, endpoint_id, type=chosen)
    detail = {
        "event_type": result.event.type,
        "status": result.attempt.response_status,
        "succeeded": result.success,
    }
    await portal.audit(deps, customer, "endpoint.tested", endpoint_id, detail)
    return result


async def testable_types(deps: Deps, customer: Customer, hook: Webhook) -> list[str]:
    """The event types the Test button of this endpoint offers (:func:`test_types`)."""
    listed = await catalog.list_event_types(deps, customer.workspace_id)
    return test_types(customer, hook.config.events, listed)


def test_types(
    customer: Customer, patterns: Sequence[str], listed: Sequence[EventType]
) -> list[str]:
    """The catalog's current types an endpoint subscribing to ``patterns`` receives and the
    customer may see (``listed``: the catalog, archived entries too, never offered)."""
    hidden = _hidden(customer, listed)
    current = [et for et in listed if not et.archived]
    candidates = candidate_types(patterns, current)
    return [name for name in candidates if name not in hidden and customer.may_see(name)]


def sample_type(customer: Customer, patterns: Sequence[str], listed: Sequence[EventType]) -> str:
    """The event type a test of an endpoint subscribing to ``patterns`` sends: the sample's
    (``domain.samples``) among the types the customer may see (``listed``: the catalog, its
    archived entries too, which are never chosen but may be hidden); the test sample's fallback
    type when none matches and the link limits no type; else a 422."""
    seen = test_types(customer, patterns, listed)
    if seen:
        return sample_event(seen, [et for et in listed if not et.archived]).type
    if customer.link.event_types is None and FALLBACK_TYPE not in _hidden(customer, listed):
        return FALLBACK_TYPE
    raise ValidationFailed(
        "events: this endpoint subscribes to no event type you may see; choose some under Edit",
        field="events",
    )


def _hidden(customer: Customer, listed: Sequence[EventType]) -> set[str]:
    """The names of the catalog entries the customer may not see."""
    return {et.name for et in listed if not customer.may_see_entry(et)}
