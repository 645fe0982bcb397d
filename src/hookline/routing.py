"""Which webhooks an event goes to: event-type patterns and payload filters, of the webhook and
of its flow (the flow's trigger), and whether it is collected in an aggregation window.

The enabled webhooks and flows of a workspace are cached together with the workspace's config
version; every webhook or flow change bumps the version in the same transaction, so one cheap
version read per publish keeps every API process exact without a cross-process cache protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hookline.filters import Filter, compile_filter
from hookline.models import Flow, Webhook, event_matches
from hookline.store import Store


@dataclass(frozen=True, slots=True)
class Target:
    """A subscribed webhook and its effective aggregation window (0 = deliver each event)."""

    webhook: Webhook
    aggregation_seconds: int = 0
    aggregation_max_events: int | None = None


@dataclass(frozen=True, slots=True)
class _Rule:
    events: list[str]
    filter: Filter | None

    def matches(self, event_type: str, payload: Any) -> bool:
        if not event_matches(self.events, event_type):
            return False
        return self.filter is None or self.filter.matches(payload)


@dataclass(frozen=True, slots=True)
class _Route:
    target: Target
    rules: tuple[_Rule, ...]


class Router:
    def __init__(self, store: Store, max_workspaces: int = 10_000) -> None:
        self._store = store
        self._cache: dict[str, tuple[int, list[_Route]]] = {}
        self._max = max_workspaces

    async def route(self, workspace_id: str, event_type: str, payload: Any) -> list[Target] | None:
        """The enabled webhooks subscribed to this event, or None if the workspace is unknown."""
        routes = await self._routes(workspace_id)
        if routes is None:
            return None
        return [
            r.target for r in routes if all(rule.matches(event_type, payload) for rule in r.rules)
        ]

    async def _routes(self, workspace_id: str) -> list[_Route] | None:
        version = await self._store.config_version(workspace_id)
        if version is None:
            return None
        cached = self._cache.get(workspace_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        snapshot = await self._store.routing_snapshot(workspace_id)
        if snapshot is None:
            return None
        routes = [_route(w, snapshot.flows.get(w.config.flow or "")) for w in snapshot.webhooks]
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[workspace_id] = (snapshot.version, routes)
        return routes


def _route(webhook: Webhook, flow: Flow | None) -> _Route:
    config = webhook.config
    rules = [_Rule(config.events, _compile(config.filter))]
    seconds, max_events = config.aggregation_seconds, config.aggregation_max_events
    if flow is not None:
        rules.append(_Rule(flow.config.events, _compile(flow.config.filter)))
        if not seconds:
            seconds = flow.config.aggregation_seconds
            max_events = flow.config.aggregation_max_events
    return _Route(Target(webhook, seconds, max_events), tuple(rules))


def _compile(spec: dict[str, Any] | None) -> Filter | None:
    return None if spec is None else compile_filter(spec)
