"""Which webhooks an event goes to: event-type patterns and payload filters.

The enabled webhooks of a workspace are cached together with the workspace's config version;
every webhook change bumps the version in the same transaction, so one cheap version read per
publish keeps every API process exact without a cross-process cache protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hookline.filters import Filter, compile_filter
from hookline.models import Webhook, event_matches
from hookline.store import Store


@dataclass(frozen=True, slots=True)
class _Route:
    webhook: Webhook
    filter: Filter | None


class Router:
    def __init__(self, store: Store, max_workspaces: int = 10_000) -> None:
        self._store = store
        self._cache: dict[str, tuple[int, list[_Route]]] = {}
        self._max = max_workspaces

    async def route(self, workspace_id: str, event_type: str, payload: Any) -> list[Webhook] | None:
        """The enabled webhooks subscribed to this event, or None if the workspace is unknown."""
        routes = await self._routes(workspace_id)
        if routes is None:
            return None
        return [
            r.webhook
            for r in routes
            if event_matches(r.webhook.config.events, event_type)
            and (r.filter is None or r.filter.matches(payload))
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
        routes = [_Route(w, _compile(w)) for w in snapshot[1]]
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[workspace_id] = (snapshot[0], routes)
        return routes


def _compile(webhook: Webhook) -> Filter | None:
    spec = webhook.config.filter
    return None if spec is None else compile_filter(spec)
