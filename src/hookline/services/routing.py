"""Which webhooks an event goes to: event-type patterns and payload filters, of the webhook and
of its flow (the flow's trigger), and whether it is collected in an aggregation window.

Whether one webhook takes an event is ``hookline.domain.explain``'s rule, the one previews
answer with too. Disabled webhooks are routed: their deliveries are made and held until they
are enabled again (see ``hookline.store.held``).

The webhooks and flows of a workspace are cached together with the workspace's config version;
every webhook or flow change bumps the version in the same transaction, so checking the
version keeps every API process exact without a cross-process cache protocol. A single publish
routes with the cached routes and has the store check their version in the transaction that
commits it (``Router.cached``, ``PublishItem.config_version``): one read per group of
publishes, and a publish routed at a version that moved is routed again. Other callers read the
version first; concurrent ones share those reads (``VersionReads``), each still answered by a
read that began after it asked.

Payload filters match in time linear in the payload (``hookline.domain.filters``), which for a
payload of a megabyte is still tens of milliseconds per filter. Routing a large payload through
filters therefore runs in a thread (``Routes.filters_large``): the event loop that answers every
other request of every tenant goes on while it runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from hookline.domain.explain import Route, Target, route_for
from hookline.runtime.shared_reads import retrieved
from hookline.store import Store

__all__ = ["OFF_LOOP_BYTES", "Router", "Routes", "Target", "VersionReads"]


#: Payloads from this size (in bytes) are handled off the event loop: routed there when a route
#: has a payload filter, and parsed and checked there by the publish routes
#: (``hookline.api.lean_route``). Smaller ones take well under a millisecond, less than a
#: thread hand-off.
OFF_LOOP_BYTES = 64 * 1024


class Router:
    def __init__(self, store: Store, max_workspaces: int = 10_000) -> None:
        self._store = store
        self._cache: dict[str, Routes] = {}  # by workspace, each at its config version
        self._max = max_workspaces
        self._versions = VersionReads(store.config.config_version)

    async def route(
        self,
        workspace_id: str,
        event_type: str,
        payload: Any,
        size: int = 0,
        channels: Sequence[str] = (),
    ) -> list[Target] | None:
        """The webhooks subscribed to this event, disabled ones included; None if the workspace
        is unknown. ``size``: the payload's size as delivered (see ``Routes.filters_large``);
        ``channels``: those the event was published on."""
        routes = await self.routes(workspace_id)
        if routes is None:
            return None
        return await routes.targets(event_type, payload, size, channels)

    async def routes(self, workspace_id: str) -> Routes | None:
        """The workspace's routes as of now (one version read), to match many events against;
        None if the workspace is unknown."""
        version = await self._versions(workspace_id)
        if version is None:
            return None
        cached = self._cache.get(workspace_id)
        if cached is not None and cached.version == version:
            return cached
        snapshot = await self._store.config.routing_snapshot(workspace_id)
        if snapshot is None:
            return None
        routes = [route_for(w, snapshot.flows.get(w.config.flow or "")) for w in snapshot.webhooks]
        if len(self._cache) >= self._max:
            self._cache.clear()
        found = self._cache[workspace_id] = Routes(routes, snapshot.version)
        return found

    def cached(self, workspace_id: str) -> Routes | None:
        """The workspace's routes as last read, without reading its version (None if none
        are cached): for a publish that has the store check the version in its transaction
        (``PublishItem.config_version``) and routes again if it moved."""
        return self._cache.get(workspace_id)

    def forget(self, workspace_id: str) -> None:
        """Drop a deleted workspace's routes now (its version read answers None anyway, so
        they would never be used again; this frees them)."""
        self._cache.pop(workspace_id, None)


class VersionReads:
    """Reads of a workspace's config version (None: no such workspace), shared by concurrent
    callers without ever answering one with a read that began before it asked.

    With no read of that workspace in flight, a caller reads at once. Callers arriving while
    one is in flight wait for it to end and share the next read, so under load a read answers
    every publish that arrived during the previous one (as group commit shares transactions),
    and each of them still sees every change committed before it asked.
    """

    def __init__(self, read: Callable[[str], Awaitable[int | None]]) -> None:
        self._read = read
        self._busy: set[str] = set()
        self._next: dict[str, asyncio.Future[int | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # the loop keeps only weak references

    async def __call__(self, workspace_id: str) -> int | None:
        if workspace_id in self._busy:
            shared = self._next.get(workspace_id)
            if shared is None:
                shared = self._next[workspace_id] = asyncio.get_running_loop().create_future()
                shared.add_done_callback(retrieved)
            return await asyncio.shield(shared)  # one caller giving up cancels no one else's
        self._busy.add(workspace_id)
        try:
            return await self._read(workspace_id)
        finally:
            self._done(workspace_id)

    def _done(self, workspace_id: str) -> None:
        self._busy.discard(workspace_id)
        waiting = self._next.pop(workspace_id, None)
        if waiting is not None:
            self._busy.add(workspace_id)
            task = asyncio.create_task(self._read_for(workspace_id, waiting))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _read_for(self, workspace_id: str, waiting: asyncio.Future[int | None]) -> None:
        try:
            waiting.set_result(await self._read(workspace_id))
        except Exception as exc:
            waiting.set_exception(exc)
        finally:
            if not waiting.done():  # this task was cancelled
                waiting.cancel()
            self._done(workspace_id)


class Routes:
    """One workspace's routes at one config version, ``version`` (under which the catalog's
    checks of what it publishes are cached too: ``hookline.services.catalog_gate``)."""

    __slots__ = ("_filtered", "_routes", "version")

    def __init__(self, routes: list[Route], version: int = 0) -> None:
        self._routes = routes
        self._filtered = any(rule.filter is not None for r in routes for rule in r.rules)
        self.version = version

    def filters_large(self, size: int) -> bool:
        """Whether matching a payload of ``size`` bytes belongs off the event loop: it is large
        and some route filters payloads (``OFF_LOOP_BYTES``)."""
        return self._filtered and size >= OFF_LOOP_BYTES

    def match(self, event_type: str, payload: Any, channels: Sequence[str] = ()) -> list[Target]:
        """The webhooks subscribed to this event, disabled ones included."""
        return [r.target for r in self._routes if r.accepts(event_type, payload, channels)]

    async def targets(
        self, event_type: str, payload: Any, size: int = 0, channels: Sequence[str] = ()
    ) -> list[Target]:
        """:meth:`match`, off the event loop for a large payload (see :meth:`filters_large`)."""
        if self.filters_large(size):
            return await asyncio.to_thread(self.match, event_type, payload, channels)
        return self.match(event_type, payload, channels)
