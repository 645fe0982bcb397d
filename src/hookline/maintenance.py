"""Background upkeep run by workers: retention and disabling webhooks that keep failing.

* Retention: finished deliveries, their attempts, and events no pending delivery needs are
  deleted once older than ``HOOKLINE_RETENTION_DAYS`` (0 keeps everything), in small batches of
  short transactions so delivery never waits on it.
* A webhook whose deliveries have failed without a single success for
  ``HOOKLINE_AUTO_DISABLE_AFTER_SECONDS`` (default 5 days; 0 never) is disabled, and a
  ``hookline.webhook.disabled`` event announces it. Its pending deliveries wait; re-enabling it
  resumes them.

Several workers may run this at once: every step is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import time

from hookline.delivery.notices import Notices
from hookline.errors import StoreError
from hookline.settings import Settings
from hookline.store import Store

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
            try:
                await asyncio.wait_for(stop.wait(), self._settings.maintenance_interval)
            except TimeoutError:
                pass

    async def run_once(self, now: float) -> tuple[int, int]:
        """One pass; returns (rows purged, webhooks disabled)."""
        await self._store.purge_expired_bins(now)
        return await self._purge(now), await self._disable_failing(now)

    async def _purge(self, now: float) -> int:
        if self._settings.retention_days <= 0:
            return 0
        before = now - self._settings.retention_days * 86400
        total = 0
        while removed := await self._store.purge(before):
            total += removed
            await asyncio.sleep(0)  # let deliveries through between batches
        if total:
            log.info(
                "retention removed %d rows older than %s days", total, self._settings.retention_days
            )
        return total

    async def _disable_failing(self, now: float) -> int:
        limit = self._settings.auto_disable_after_seconds
        if limit <= 0:
            return 0
        disabled = 0
        for webhook in await self._store.webhooks_with_failures():
            since = await self._store.failing_since(webhook.id)
            if since is None or now - since < limit:
                continue
            days = (now - since) / 86400
            reason = f"failing without a success for {days:.1f} days"
            await self._store.set_webhook_enabled(webhook.id, False, reason, now)
            await self._notices.publish(webhook, "webhook.disabled", {"reason": reason})
            log.warning("webhook %s disabled: %s", webhook.id, reason)
            disabled += 1
        return disabled
