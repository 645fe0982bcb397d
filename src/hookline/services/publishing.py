"""Publishing: turning a published payload into an event and one delivery per subscribed
webhook, one event at a time or a batch in one transaction (``hookline.services.events``
reads them back)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

from hookline.domain.models import Delivery, Event
from hookline.domain.publication import new_delivery, new_event
from hookline.domain.records import record
from hookline.errors import ApiError, NotFound, PayloadTooLarge
from hookline.runtime import tracing
from hookline.services.catalog_gate import CatalogGate, Checked
from hookline.services.deps import Deps
from hookline.services.routing import Router, Target
from hookline.store import PublishResult, Store
from hookline.store.group_commit import GroupCommit
from hookline.store.items import PublishItem, WindowSpec


@record
class NewEvent:
    """An event as a client publishes it."""

    type: str
    payload: Any
    idempotency_key: str | None = None
    channels: tuple[str, ...] = ()
    """Only webhooks without channels, or with one of these, receive it."""
    tags: tuple[str, ...] = ()
    """Labels to find it by in the delivery log."""


async def publish_event(
    deps: Deps,
    workspace_id: str,
    type: str,
    payload: Any,
    idempotency_key: str | None,
    *,
    channels: Sequence[str] = (),
    tags: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
) -> PublishResult:
    """Accept an event: it and one delivery per subscribed webhook are committed when this
    returns, sharing a transaction with the process's concurrent publishes (group commit). A
    repeated ``idempotency_key`` returns the first event (``created`` false) and stores nothing.
    ``channels`` and ``tags``: see ``NewEvent``.

    When traces are exported (``hookline.runtime.tracing``) the publish has a span, a child of
    the W3C trace context in the request's ``headers`` if any, and the event keeps its
    ``traceparent`` for the attempts' spans.
    """

    async def accept(traceparent: str | None) -> PublishResult:
        result = await publish(
            deps.store,
            deps.router,
            workspace_id,
            type,
            payload,
            idempotency_key=idempotency_key,
            now=time.time(),
            group=deps.publisher,
            gate=deps.catalog_gate,
            channels=channels,
            tags=tags,
            traceparent=traceparent,
        )
        if result is None:
            raise NotFound(f"workspace {workspace_id} not found")
        return result

    if tracing.active is None:
        return await accept(None)
    with tracing.active.publish(workspace_id, type, headers) as span:
        traced = await accept(span.traceparent)
        span.published([traced.event.id])
    return traced


async def publish_events(
    deps: Deps,
    workspace_id: str,
    events: Sequence[NewEvent],
    *,
    headers: Mapping[str, str] | None = None,
) -> list[PublishResult]:
    """Accept several events at once: all of them and all their deliveries in one transaction,
    or none; one result per event, in order. Each event's payload is held to the single
    publish's size limit (``PayloadTooLarge`` names the event). Traced as ``publish_event``,
    one span for the batch."""
    if tracing.active is not None:
        with tracing.active.publish(workspace_id, None, headers) as span:
            results = await _publish_events(deps, workspace_id, events, span.traceparent)
            span.published([r.event.id for r in results])
        return results
    return await _publish_events(deps, workspace_id, events, None)


async def _publish_events(
    deps: Deps, workspace_id: str, events: Sequence[NewEvent], traceparent: str | None
) -> list[PublishResult]:
    results = await publish_batch(
        deps.store,
        deps.router,
        workspace_id,
        events,
        now=time.time(),
        max_body_bytes=deps.settings.max_body_bytes,
        gate=deps.catalog_gate,
        traceparent=traceparent,
    )
    if results is None:
        raise NotFound(f"workspace {workspace_id} not found")
    return results


async def publish(
    store: Store,
    router: Router,
    workspace_id: str,
    type: str,
    payload: Any,
    *,
    idempotency_key: str | None,
    now: float,
    group: GroupCommit | None = None,
    channels: Sequence[str] = (),
    tags: Sequence[str] = (),
    gate: CatalogGate | None = None,
    traceparent: str | None = None,
) -> PublishResult | None:
    """Store the event and its deliveries atomically; None if the workspace does not exist.

    With ``group`` the event shares a transaction with the process's concurrent publishes
    (group commit); it is committed, as alone, before this returns. With ``gate`` the catalog
    may refuse it first (``hookline.services.catalog_gate``). ``traceparent``: the trace
    context of the publish's span, kept with the event.
    """
    event = new_event(
        workspace_id, type, payload, idempotency_key, now, channels=channels, tags=tags,
        traceparent=traceparent,
    )  # fmt: skip
    # Grouped, the cached routes serve and the group's transaction checks their version; if it
    # moved (or the catalog refused the event by rules of that version), the event is routed
    # again with the version read first, which needs no check: at most one more round.
    routes = router.cached(workspace_id) if group is not None else None
    while True:
        cached = routes is not None
        if routes is None:
            routes = await router.routes(workspace_id)
            if routes is None:
                return None
        if gate is not None:
            try:
                await gate.check(
                    store, workspace_id, routes.version, type, payload, len(event.body)
                )
            except ApiError:
                if not cached:
                    raise
                routes = None  # refused by rules that may have changed since: check again
                continue
        targets = await routes.targets(type, payload, len(event.body), event.channels)
        if group is None:
            (result,) = await store.publishing.publish_many([plan(event, targets, now)])
            return result
        checked = routes.version if cached else None
        published = await group.publish(plan(event, targets, now, checked))
        if published is not None:
            return published
        routes = None  # its configuration changed meanwhile


async def publish_batch(
    store: Store,
    router: Router,
    workspace_id: str,
    events: Sequence[NewEvent],
    *,
    now: float,
    max_body_bytes: int | None = None,
    gate: CatalogGate | None = None,
    traceparent: str | None = None,
) -> list[PublishResult] | None:
    """Store several events and all their deliveries in one transaction, routed against one
    configuration version; one result per event, in order. None if the workspace does not
    exist.

    ``PayloadTooLarge`` (nothing stored) if an event's body, its payload as it is delivered,
    exceeds ``max_body_bytes``. With ``gate``, one 422 (nothing stored) names every event the
    catalog refuses (``hookline.services.catalog_gate``).
    """
    routes = await router.routes(workspace_id)
    if routes is None:
        return None
    made = []
    for i, e in enumerate(events):
        event = new_event(
            workspace_id,
            e.type,
            e.payload,
            e.idempotency_key,
            now,
            channels=e.channels,
            tags=e.tags,
            traceparent=traceparent,
        )
        if max_body_bytes is not None and len(event.body) > max_body_bytes:
            field = f"events.{i}.payload"
            raise PayloadTooLarge(
                f"{field}: an event's payload is limited to {max_body_bytes} bytes"
                f" as delivered (this one has {len(event.body)})",
                field=field,
            )
        made.append((event, e.payload))
    if gate is not None:
        checked = [Checked(event.type, payload, len(event.body)) for event, payload in made]
        await gate.check_all(store, workspace_id, routes.version, checked)

    def plan_all() -> list[PublishItem]:
        return [
            plan(event, routes.match(event.type, payload, event.channels), now)
            for event, payload in made
        ]

    if routes.filters_large(sum(len(event.body) for event, _ in made)):
        items = await asyncio.to_thread(plan_all)  # see ``hookline.services.routing``
    else:
        items = plan_all()
    return await store.publishing.publish_many(items)


def plan(
    event: Event, targets: Sequence[Target], now: float, config_version: int | None = None
) -> PublishItem:
    """What publishing ``event`` to ``targets`` stores: see ``fan_out``. ``config_version``:
    the version the targets were routed at, for the store to check (``PublishItem``)."""
    deliveries, windows = fan_out(event, targets, now)
    fifo, held = fifo_webhooks(targets), held_webhooks(targets)
    return PublishItem(event, deliveries, windows, fifo, held, config_version)


def fan_out(
    event: Event, targets: Sequence[Target], now: float
) -> tuple[list[Delivery], list[WindowSpec]]:
    """A delivery now for each target without a window; the others collect the event. Disabled
    targets are no exception: the store holds what they queue until they are enabled."""
    deliveries = [
        new_delivery(event, t.webhook.id, now) for t in targets if not t.aggregation_seconds
    ]
    windows = [
        WindowSpec(t.webhook.id, t.aggregation_seconds, t.aggregation_max_events)
        for t in targets
        if t.aggregation_seconds
    ]
    return deliveries, windows


def fifo_webhooks(targets: Sequence[Target]) -> frozenset[str]:
    """The targets that deliver in FIFO order, as the routing snapshot saw them."""
    return frozenset(t.webhook.id for t in targets if t.fifo)


def held_webhooks(targets: Sequence[Target]) -> frozenset[str]:
    """The targets the routing snapshot saw disabled: what they queue is held."""
    return frozenset(t.webhook.id for t in targets if not t.webhook.config.enabled)
