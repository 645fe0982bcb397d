"""The storage seam: the domain operations Hookline needs, one implementation per database.

Every implementation passes the same contract suite (``tests/contract``). Operations that
change several rows do so in one transaction; nothing here commits half of a publish.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from hookline.domain.models import (
    ApiKey,
    Attempt,
    AttemptOutcome,
    Claimed,
    Delivery,
    DeliveryStatus,
    Event,
    EventType,
    Flow,
    Page,
    Webhook,
    Workspace,
)
from hookline.domain.records import record
from hookline.store.bins import BinStore
from hookline.store.entities import EntityStore
from hookline.store.items import PublishItem, WindowSpec

__all__ = [
    "DeliveryQuery",
    "Expired",
    "PublishItem",
    "PublishResult",
    "QueueStats",
    "RoutingSnapshot",
    "Store",
    "WindowSpec",
]


@dataclass(frozen=True, slots=True)
class DeliveryQuery:
    webhook_id: str | None = None
    event_id: str | None = None
    status: DeliveryStatus | None = None
    since: float | None = None
    until: float | None = None
    limit: int = 50
    cursor: str | None = None


@record
class PublishResult:
    event: Event
    deliveries: list[Delivery]
    created: bool


@dataclass(frozen=True, slots=True)
class RoutingSnapshot:
    """What routing needs of a workspace, as of one config version."""

    version: int
    webhooks: list[Webhook]
    flows: dict[str, Flow]


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Pending deliveries (held ones included) and the oldest due time of those not held."""

    pending: int
    oldest_due_at: float | None


@dataclass(frozen=True, slots=True)
class Expired:
    """One batch of a disabled webhook's held deliveries that expired: how many, and the types
    of the events they carried."""

    deliveries: int = 0
    event_types: frozenset[str] = frozenset()


class Store(BinStore, EntityStore, ABC):
    """Domain operations over Hookline's data."""

    # -- lifecycle ---------------------------------------------------------------------------
    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` if the database cannot be reached."""

    @abstractmethod
    async def wait_for_work(self, timeout: float) -> None:
        """Return when new deliveries may be due (a notification) or after ``timeout``."""

    @abstractmethod
    def notify_local(self) -> None:
        """Wake this process's waiting workers (used after in-process writes)."""

    # -- meta, workspaces, keys --------------------------------------------------------------
    @abstractmethod
    async def get_meta(self, key: str) -> str | None: ...

    @abstractmethod
    async def set_meta_if_absent(self, key: str, value: str) -> bool: ...

    @abstractmethod
    async def create_workspace(self, workspace: Workspace) -> None: ...

    @abstractmethod
    async def get_workspace(self, workspace_id: str) -> Workspace | None: ...

    @abstractmethod
    async def list_workspaces(self) -> list[Workspace]: ...

    @abstractmethod
    async def create_api_key(self, key: ApiKey) -> None: ...

    @abstractmethod
    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        """The unrevoked key with this hash, or None."""

    @abstractmethod
    async def list_api_keys(self, workspace_id: str) -> list[ApiKey]: ...

    @abstractmethod
    async def revoke_api_key(self, workspace_id: str, key_id: str, now: float) -> bool: ...

    # -- dashboard sign-outs ------------------------------------------------------------------
    @abstractmethod
    async def revoke_session(self, sid: str, expires_at: float) -> None:
        """Refuse the dashboard session ``sid`` in every process until ``expires_at`` (when its
        cookie expires anyway). Revoking it again is not an error."""

    @abstractmethod
    async def session_revoked(self, sid: str) -> bool:
        """Whether ``sid`` was signed out (one primary-key lookup: every dashboard request asks)."""

    @abstractmethod
    async def purge_revoked_sessions(self, now: float) -> int:
        """Forget revocations whose session has expired by ``now``; how many were removed."""

    # -- catalog ------------------------------------------------------------------------------
    @abstractmethod
    async def save_event_type(self, event_type: EventType, *, create: bool) -> None:
        """Insert (``create``) or replace; ``Conflict`` on a duplicate name."""

    @abstractmethod
    async def get_event_type(self, workspace_id: str, name: str) -> EventType | None: ...

    @abstractmethod
    async def list_event_types(self, workspace_id: str) -> list[EventType]: ...

    @abstractmethod
    async def delete_event_type(self, workspace_id: str, name: str) -> bool: ...

    @abstractmethod
    async def save_flow(self, flow: Flow, *, create: bool) -> None: ...

    @abstractmethod
    async def get_flow(self, workspace_id: str, flow_id: str) -> Flow | None: ...

    @abstractmethod
    async def list_flows(self, workspace_id: str) -> list[Flow]: ...

    @abstractmethod
    async def delete_flow(self, workspace_id: str, flow_id: str) -> bool: ...

    @abstractmethod
    async def count_flow_webhooks(self, workspace_id: str, flow_id: str) -> int: ...

    # -- webhooks -----------------------------------------------------------------------------
    @abstractmethod
    async def save_webhook(self, webhook: Webhook, *, create: bool) -> None:
        """Insert or replace; ``Conflict`` on a duplicate name. Bumps the workspace version."""

    @abstractmethod
    async def get_webhook(self, workspace_id: str, webhook_id: str) -> Webhook | None: ...

    @abstractmethod
    async def list_webhooks(
        self,
        workspace_id: str,
        *,
        limit: int,
        cursor: str | None = None,
        enabled: bool | None = None,
        flow_id: str | None = None,
        search: str | None = None,
    ) -> Page: ...

    @abstractmethod
    async def delete_webhook(self, workspace_id: str, webhook_id: str) -> bool: ...

    @abstractmethod
    async def set_webhook_enabled(
        self, webhook_id: str, enabled: bool, reason: str | None, now: float
    ) -> None: ...

    # -- events and deliveries ---------------------------------------------------------------
    @abstractmethod
    async def publish_many(self, items: Sequence[PublishItem]) -> list[PublishResult]:
        """Commit events and their deliveries, all of them in one transaction; one result per
        item, in order.

        For each of an item's ``windows`` its event joins that webhook's open aggregation
        window (or opens one); the window's delivery is among the item's returned deliveries.
        Items join windows in order, so events of one call share a window as if published one
        after another.

        An event whose idempotency key exists already is not stored again: the first event and
        its deliveries come back with ``created=False``. So does a key repeated within ``items``
        (its first occurrence is the one stored). An event whose id exists already without
        being such a repeat raises ``Conflict`` and nothing of the call is stored.
        """

    async def publish(
        self,
        event: Event,
        deliveries: Sequence[Delivery],
        *,
        windows: Sequence[WindowSpec] = (),
        fifo: Collection[str] | None = None,
    ) -> PublishResult:
        """``publish_many`` of one event (see ``PublishItem`` for the arguments)."""
        (result,) = await self.publish_many([PublishItem(event, deliveries, windows, fifo)])
        return result

    @abstractmethod
    async def routing_snapshot(self, workspace_id: str) -> RoutingSnapshot | None:
        """The workspace's config version, webhooks (disabled ones included: their deliveries
        are held) and flows (None if it is unknown)."""

    @abstractmethod
    async def config_version(self, workspace_id: str) -> int | None: ...

    @abstractmethod
    async def get_event(self, workspace_id: str, event_id: str) -> Event | None: ...

    @abstractmethod
    async def list_events(
        self, workspace_id: str, *, limit: int, cursor: str | None = None, type: str | None = None
    ) -> Page: ...

    @abstractmethod
    async def get_delivery(self, workspace_id: str, delivery_id: str) -> Delivery | None: ...

    @abstractmethod
    async def list_deliveries(self, workspace_id: str, query: DeliveryQuery) -> Page: ...

    @abstractmethod
    async def list_attempts(self, workspace_id: str, delivery_id: str) -> list[Attempt]: ...

    @abstractmethod
    async def retry_delivery(self, workspace_id: str, delivery_id: str, now: float) -> bool:
        """Queue a delivery again; its retry schedule starts again from the first step."""

    @abstractmethod
    async def replay_webhook(
        self,
        workspace_id: str,
        webhook_id: str,
        *,
        since: float,
        until: float,
        statuses: Sequence[DeliveryStatus],
        now: float,
    ) -> int:
        """Queue again every matching delivery of a webhook; returns how many."""

    # -- the queue ----------------------------------------------------------------------------
    @abstractmethod
    async def claim(
        self,
        worker_id: str,
        *,
        limit: int,
        lease_seconds: float,
        exclude: Sequence[str],
        now: float,
        rooms: Mapping[str, int] | None = None,
        default_room: int | None = None,
    ) -> list[Claimed]:
        """Lease up to ``limit`` due deliveries, oldest first.

        Skips webhooks in ``exclude`` (saturated in this worker) and, for FIFO webhooks, every
        delivery but the oldest pending one. A lease that expires makes the row claimable again.

        Per-webhook room: of the ``limit`` oldest due deliveries, at most ``rooms[webhook_id]``
        (``default_room`` for webhooks not in ``rooms``; no limit when None) of each webhook are
        leased, its oldest. The rest are left as they were, unleased.
        """

    @abstractmethod
    async def record(self, outcomes: Sequence[AttemptOutcome], now: float) -> None:
        """Store attempts and the deliveries' new states in one transaction, ending leases."""

    @abstractmethod
    async def release(self, delivery_ids: Sequence[str], *, not_before: float) -> None:
        """Give leased deliveries back unattempted, due again at ``not_before``."""

    @abstractmethod
    async def next_due_at(self) -> float | None: ...

    @abstractmethod
    async def queue_stats(self, now: float) -> QueueStats: ...

    # -- maintenance --------------------------------------------------------------------------
    @abstractmethod
    async def purge(self, before: float, *, batch: int = 1000) -> int:
        """Delete one batch of finished deliveries (with their attempts) and of events created
        before ``before`` that no pending delivery needs; returns how many rows went."""

    @abstractmethod
    async def expire_held(
        self, webhook_id: str, before: float, now: float, *, batch: int = 1000
    ) -> Expired:
        """Fail one batch of the pending deliveries of a disabled webhook created before
        ``before`` (``last_error``: "expired while the webhook was disabled"); nothing if the
        webhook is enabled (or gone). Deliveries in flight are left to their attempt."""

    @abstractmethod
    async def disabled_webhooks(self) -> list[Webhook]:
        """Every disabled webhook, of every workspace."""

    @abstractmethod
    async def failing_since(self, webhook_id: str) -> float | None:
        """When the webhook's current run of failures began (None if it is not failing)."""

    @abstractmethod
    async def webhooks_with_failures(self) -> list[Webhook]:
        """Enabled webhooks with a failed or retrying delivery."""
