"""Background upkeep run by workers: retention and disabling webhooks that keep failing.

* Retention: finished deliveries, their attempts, and events no pending delivery needs go
  once older than ``HOOKLINE_RETENTION_DAYS`` (0 keeps everything). On SQLite they are deleted
  in small batches of short transactions, so delivery never waits on it. On PostgreSQL whole
  time partitions are dropped instead (:mod:`hookline.store.partitions`), and each pass first
  makes the partitions of the days ahead.
* A webhook whose deliveries have failed without a single success for
  ``HOOKLINE_AUTO_DISABLE_AFTER_SECONDS`` (default 5 days; 0 never) is disabled, and a
  ``hookline.webhook.disabled`` event announces it. Its pending deliveries, and those of the
  events published while it is disabled, are held; re-enabling it sends them.
* Held deliveries older than the retention period expire: they are marked ``failed`` ("expired
  while the webhook was disabled"; the next pass's retention deletes them, as any finished
  delivery that old) and one ``hookline.webhook.deliveries_expired`` event per webhook and pass
  says how many, so a webhook disabled for good does not keep its events for ever. Expiry
  comes after retention in a pass: until the next pass, the expired deliveries can be seen.

Several workers may run this at once: every step is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import time

from hookline.delivery.notices import PREFIX, Notices
from hookline.errors import StoreError
from hookline.settings import Settings
from hookline.store import Store
from hookline.store.held import EXPIRED

log = logging.getLogger(__name__)


class Maintenance:
    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._notices = Notices(store)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once(time.time())
            except (StoreError, OSError) as exc:
                log.warning("maintenance skipped: %s", exc)
            except Exception:  # a bug or an unforeseen database error: the worker goes on
                log.exception("maintenance pass failed; the next one tries again")
            try:
                await asyncio.wait_for(stop.wait(), self._settings.maintenance_interval)
            except TimeoutError:
                pass

    async def run_once(self, now: float) -> tuple[int, int]:
        """One pass; returns (rows purged, or partitions dropped on PostgreSQL; webhooks
        disabled)."""
        await self._store.inspector.purge_expired_bins(now)
        await self._store.config.purge_revoked_sessions(now)
        await self._store.idempotency.purge(now)
        await self._store.portal.purge_links(now)
        purged = await self._purge(now)
        await self._expire_held(now)
        return purged, await self._disable_failing(now)

    async def _purge(self, now: float) -> int:
        """Retention; how many rows (SQLite) or partitions (PostgreSQL) went."""
        partitions = self._store.partitions
        if partitions is not None:
            await partitions.ensure(now, self._settings.partitions)
        if self._settings.retention_days <= 0:
            return 0
        before = now - self._settings.retention_days * 86400
        if partitions is not None:
            done = await partitions.retain(before)
            if done.kept:
                log.info("retention kept %s: pending deliveries need them", ", ".join(done.kept))
            return len(done.dropped)
        total = 0
        while removed := await self._store.history.purge(before):
            total += removed
            await asyncio.sleep(0)  # let deliveries through between batches
        if total:
            log.info(
                "retention removed %d rows older than %s days", total, self._settings.retention_days
            )
        return total

    async def _expire_held(self, now: float) -> int:
        """Expire the held deliveries older than the retention period; how many expired."""
        if self._settings.retention_days <= 0:
            return 0
        before = now - self._settings.retention_days * 86400
        total = 0
        for webhook in await self._store.config.disabled_webhooks():
            count, types = 0, set[str]()
            while (
                expired := await self._store.queue.expire_held(webhook.id, before, now)
            ).deliveries:
                count += expired.deliveries
                types |= expired.event_types
                await asyncio.sleep(0)  # let deliveries through between batches
            if count and not all(t.startswith(PREFIX) for t in types):
                # Only Hookline's own events expiring is not reported: reports cannot loop.
                details = {"deliveries": count, "reason": EXPIRED}
                await self._notices.publish(webhook, "webhook.deliveries_expired", details)
            if count:
                log.warning("webhook %s: %d held deliveries expired", webhook.id, count)
            total += count
        return total

    async def _disable_failing(self, now: float) -> int:
        limit = self._settings.auto_disable_after_seconds
        if limit <= 0:
            return 0
        disabled = 0
        for webhook in await self._store.config.webhooks_with_failures():
            since = await self._store.config.failing_since(webhook.id)
            if since is None:
                continue
            # Counted from its last change at the earliest: a webhook enabled again (or fixed)
            # gets the whole period, whatever failed before.
            since = max(since, webhook.updated_at)
            if now - since < limit:
                continue
            days = (now - since) / 86400
            reason = f"failing without a success for {days:.1f} days"
            await self._store.config.set_webhook_enabled(webhook.id, False, reason, now)
            await self._notices.publish(webhook, "webhook.disabled", {"reason": reason})
            log.warning("webhook %s disabled: %s", webhook.id, reason)
            disabled += 1
        return disabled
