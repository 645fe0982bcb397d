"""Storage: ``open_store`` picks the dialect from the database URL."""

from __future__ import annotations

import asyncio

from hookline.domain.secretbox import SecretBox
from hookline.settings import Settings
from hookline.store.base import DeliveryQuery, PublishResult, QueueStats, Store
from hookline.store.migrate import upgrade
from hookline.store.records import (
    DeliveryCounts,
    HealthBucket,
    LogAttempt,
    LogDelivery,
    LogPage,
    LogQuery,
    WebhookHealth,
)

__all__ = [
    "DeliveryCounts",
    "DeliveryQuery",
    "HealthBucket",
    "LogAttempt",
    "LogDelivery",
    "LogPage",
    "LogQuery",
    "PublishResult",
    "QueueStats",
    "Store",
    "WebhookHealth",
    "migrate",
    "open_store",
]


async def migrate(settings: Settings) -> None:
    """Apply pending migrations (Alembic runs its own event loop, so in a thread)."""
    await asyncio.to_thread(upgrade, settings.database_url)


async def open_store(settings: Settings, *, pool_size: int = 10) -> Store:
    box = SecretBox(settings.secret_key)
    if settings.is_sqlite:
        from hookline.store.sqlite import SqliteStore, sqlite_path

        return await SqliteStore(sqlite_path(settings.database_url), box).open()
    from hookline.store.postgres import PostgresStore

    return await PostgresStore(
        settings.database_url,
        box,
        max_size=pool_size,
        pooler=settings.database_pooler,
        listen_dsn=settings.listen_database_url,
    ).open()
