"""Batching attempt results into few transactions.

Outcomes wait here a few milliseconds so that one commit carries many of them. If the database
is unreachable they stay queued and are retried with backoff; if the process dies first, the
unrecorded deliveries' leases expire and they are sent again (at least once, never lost).
"""

from __future__ import annotations

import asyncio
import logging
import time

from hookline.domain.models import AttemptOutcome
from hookline.errors import StoreError
from hookline.store import Store

log = logging.getLogger(__name__)


class Recorder:
    def __init__(self, store: Store, *, max_batch: int = 500, linger: float = 0.01) -> None:
        self._store = store
        self._pending: list[AttemptOutcome] = []
        self._makes_work = False  # whether what is pending, once recorded, can make work due
        self._max_batch = max_batch
        self._linger = linger
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hookline-recorder")

    def add(self, outcome: AttemptOutcome, *, makes_work: bool = True) -> None:
        """Queue an outcome for recording. ``makes_work``: recording it can make a delivery due
        at once (a retry due now, the successor of an ordered delivery), so this process's
        worker looks for work after the commit; other outcomes need no wake-up, which spares a
        claim that would find nothing after every commit."""
        self._pending.append(outcome)
        self._makes_work = self._makes_work or makes_work
        self._idle.clear()
        self._wake.set()

    async def flushed(self) -> None:
        """Wait until everything added so far is committed."""
        await self._idle.wait()

    async def close(self) -> None:
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._closing:
                await asyncio.sleep(self._linger)
            while self._pending:
                batch = self._pending[: self._max_batch]
                try:
                    await self._store.queue.record(batch, time.time())
                except (StoreError, OSError) as exc:
                    log.warning("recording %d attempts failed, retrying: %s", len(batch), exc)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                except Exception:
                    log.exception("recording %d attempts failed unexpectedly", len(batch))
                    # Whatever cannot be stored even alone is dropped from the queue: its
                    # delivery keeps its lease, which expires, and it is attempted again.
                    await self._record_one_by_one(batch)
                backoff = 0.1
                del self._pending[: len(batch)]
                # Ended leases can make work due now (a FIFO successor, an immediate retry):
                # without this wake-up it would wait for the next poll.
                if self._makes_work:
                    self._makes_work = bool(self._pending)
                    self._store.notify_local()
                if self._pending and not self._closing and len(self._pending) < self._max_batch:
                    # What arrived during that commit waits a linger of its own, to share the
                    # next commit with what follows, rather than take one for itself.
                    break
            if self._pending:
                continue  # the wake-up is set: add() set it
            self._idle.set()
            if self._closing:
                return

    async def _record_one_by_one(self, batch: list[AttemptOutcome]) -> None:
        """Isolate an outcome the store rejects so it cannot block every other one.

        A skipped outcome is not a lost event: its delivery keeps its lease, which expires,
        and the delivery is attempted again.
        """
        for outcome in batch:
            try:
                await self._store.queue.record([outcome], time.time())
            except Exception:
                log.exception(
                    "cannot record attempt; delivery will be retried after its lease expires",
                    extra={"delivery_id": outcome.attempt.delivery_id},
                )
