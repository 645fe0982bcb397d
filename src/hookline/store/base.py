"""The store: Hookline's data behind narrow repositories over one dialect object.

``store.queue`` (claims, results, give-backs), ``store.publishing`` (events and what they
queue), ``store.config`` (workspaces, keys, sessions, flows, webhooks, routing),
``store.catalog`` (event types, each workspace's and the shared ones),
``store.history`` (events, deliveries, attempts read back, sent again, purged),
``store.inspector`` (capture bins), ``store.entities`` (entity state), ``store.operators``
(operator keys), ``store.portal`` (customer portal links, themes, the audit log) and
``store.removal`` (deleting a workspace) are each written once
against :class:`~hookline.store.dialect.Dialect`; the dialect holds the connections. Every
operation passes the same contract suite on every database (``tests/contract``); operations
that change several rows do so in one transaction: nothing here commits half of a publish.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hookline.domain.secretbox import SecretBox
from hookline.store.catalog import CatalogRepository
from hookline.store.config import ConfigRepository
from hookline.store.dialect import Dialect
from hookline.store.entities import EntityRepository
from hookline.store.history import HistoryRepository
from hookline.store.idempotency import IdempotencyRepository
from hookline.store.inspector import InspectorRepository
from hookline.store.log import LogRepository
from hookline.store.operators import OperatorRepository
from hookline.store.portal import PortalRepository
from hookline.store.publishing import PublishingRepository
from hookline.store.queue import QueueRepository
from hookline.store.records import (
    DeliveryQuery,
    Expired,
    PublishItem,
    PublishResult,
    QueueStats,
    RoutingSnapshot,
    WindowSpec,
)
from hookline.store.removal import RemovalRepository
from hookline.store.rows import WebhookDecoder
from hookline.store.windows import Windows

if TYPE_CHECKING:
    from hookline.store.partitions import PartitionRepository

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


class Store:
    """The repositories over one database, and the lifecycle of its connections."""

    def __init__(self, dialect: Dialect, box: SecretBox) -> None:
        self.dialect = dialect
        webhooks = WebhookDecoder(box)
        windows = Windows(dialect)
        self.config = ConfigRepository(dialect, webhooks)
        self.catalog = CatalogRepository(dialect)
        self.queue = QueueRepository(dialect, webhooks, windows, self.config.disable_in_tx)
        self.publishing = PublishingRepository(dialect, windows)
        self.history = HistoryRepository(dialect)
        self.log = LogRepository(dialect)
        self.idempotency = IdempotencyRepository(dialect)
        self.inspector = InspectorRepository(dialect)
        self.entities = EntityRepository(dialect, windows)
        self.operators = OperatorRepository(dialect)
        self.portal = PortalRepository(dialect)
        self.removal = RemovalRepository(dialect)
        #: PostgreSQL's time partitions (None on SQLite, whose retention deletes rows).
        self.partitions: PartitionRepository | None = None

    async def close(self) -> None:
        await self.dialect.close()

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` if the database cannot be reached."""
        await self.dialect.ping()

    async def wait_for_work(self, timeout: float) -> None:
        """Return when new deliveries may be due (a notification) or after ``timeout``."""
        await self.dialect.wait_for_work(timeout)

    def notify_local(self) -> None:
        """Wake this process's waiting workers (used after in-process writes)."""
        self.dialect.notify_local()
