"""The delivery worker: claim a batch, deliver concurrently under per-webhook limits, record
results in batches. Wakes on a notification, polls as a fallback, drains on stop.

Isolation: a webhook with ``per_webhook_concurrency`` requests in flight is left out of the next
claims, so a slow or dead endpoint holds at most that many slots and never the whole worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable

from hookline.delivery.attempt import attempt_delivery
from hookline.delivery.email import smtp_config
from hookline.delivery.notices import Notices
from hookline.delivery.recorder import Recorder
from hookline.delivery.sender import Sender
from hookline.delivery.throttle import Throttles
from hookline.errors import StoreError
from hookline.models import AttemptOutcome, Claimed, DeliveryStatus
from hookline.retry import Outcome
from hookline.settings import Settings
from hookline.ssrf import AddressPolicy
from hookline.store import Store

log = logging.getLogger(__name__)
# Longer than this and a rate-limited delivery goes back to the queue instead of holding a slot.
_MAX_LOCAL_WAIT = 2.0


class Worker:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        sender: Sender | None = None,
        worker_id: str | None = None,
        on_outcome: Callable[[AttemptOutcome], None] | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._own_sender = sender is None
        self._sender = sender or Sender(
            AddressPolicy(settings.allowed_networks),
            excerpt_bytes=settings.response_excerpt_bytes,
            limit=settings.worker_concurrency,
        )
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._smtp = smtp_config(settings.smtp_url)
        self._recorder = Recorder(store)
        self._notices = Notices(store)
        self._throttles = Throttles()
        self._in_flight: Counter[str] = Counter()
        self._backlogged: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slot_freed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._on_outcome = on_outcome

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def stop(self) -> None:
        """Stop claiming; ``run`` returns once in-flight requests are finished and recorded."""
        self._stopping.set()

    async def run(self) -> None:
        if self._own_sender:
            await self._sender.start()
        self._recorder.start()
        try:
            await self._loop()
        finally:
            await self._drain()

    async def _loop(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                claimed = await self._claim()
            except (StoreError, OSError) as exc:
                log.warning("claim failed, retrying in %.1fs: %s", backoff, exc)
                await self._sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            except Exception:
                # A bug in one claim must not stop delivery for the whole process.
                log.exception("claim failed unexpectedly, retrying in %.1fs", backoff)
                await self._sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.5
            for item in claimed:
                self._spawn(item)
            if not claimed or self.in_flight >= self._settings.worker_concurrency:
                await self._wait()

    async def _claim(self) -> list[Claimed]:
        free = self._settings.worker_concurrency - self.in_flight
        if free <= 0:
            return []
        cap = self._settings.per_webhook_concurrency
        saturated = self._saturated(cap)
        claimed = await self._store.claim(
            self.worker_id,
            limit=min(free, self._settings.claim_batch),
            lease_seconds=self._settings.lease_seconds,
            exclude=saturated,
            now=time.time(),
        )
        return await self._within_cap(claimed, cap)

    def _saturated(self, cap: int) -> list[str]:
        """Webhooks to leave out of the next claim.

        A webhook at its cap is out. One that had a backlog given back stays out until half
        its slots are free (hysteresis): re-claiming it for every single freed slot would
        lease and give back a whole batch per delivery.
        """
        self._backlogged &= set(self._in_flight)
        self._backlogged -= {w for w in self._backlogged if self._in_flight[w] <= cap // 2}
        full = {w for w, n in self._in_flight.items() if n >= cap}
        return sorted(full | self._backlogged)

    async def _within_cap(self, claimed: list[Claimed], cap: int) -> list[Claimed]:
        """The claimed deliveries this worker may start; the rest are given back at once.

        One claim can return a whole backlog of one webhook, more than its in-flight cap:
        kept, they would take the slots every other webhook is waiting for.
        """
        room = {c.webhook.id: cap - self._in_flight[c.webhook.id] for c in claimed}
        keep: list[Claimed] = []
        excess: list[str] = []
        for item in claimed:
            room[item.webhook.id] -= 1
            if room[item.webhook.id] >= 0:
                keep.append(item)
            else:
                excess.append(item.delivery.id)
                self._backlogged.add(item.webhook.id)
        if not excess:
            return keep
        try:
            await self._store.release(excess, not_before=time.time())
        except (StoreError, OSError) as exc:
            # Their leases expire and they are claimed again: late, never lost.
            log.warning("giving back %d deliveries failed: %s", len(excess), exc)
        return keep

    def _spawn(self, claimed: Claimed) -> None:
        self._in_flight[claimed.webhook.id] += 1
        task = asyncio.create_task(self._deliver(claimed))
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._finished(t, claimed.webhook.id))

    def _finished(self, task: asyncio.Task[None], webhook_id: str) -> None:
        self._tasks.discard(task)
        self._in_flight[webhook_id] -= 1
        if self._in_flight[webhook_id] <= 0:
            del self._in_flight[webhook_id]
        self._slot_freed.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery task failed", exc_info=task.exception())

    async def _deliver(self, claimed: Claimed) -> None:
        throttle = self._throttles.for_webhook(claimed.webhook)
        wait = throttle.delay(time.monotonic(), _MAX_LOCAL_WAIT)
        if wait > _MAX_LOCAL_WAIT:
            await self._store.release([claimed.delivery.id], not_before=time.time() + wait)
            return
        if wait > 0:
            await asyncio.sleep(wait)
        outcome, decision = await attempt_delivery(self._sender, claimed, smtp=self._smtp)
        throttle.observe(outcome.attempt.response_status, time.monotonic())
        self._recorder.add(outcome)
        if self._on_outcome is not None:
            self._on_outcome(outcome)
        if outcome.status is not DeliveryStatus.SUCCEEDED:
            attempt = outcome.attempt
            log.info(
                "attempt failed",
                extra={
                    "delivery_id": attempt.delivery_id,
                    "event_id": claimed.event.id,
                    "webhook_id": attempt.webhook_id,
                    "attempt": attempt.number,
                    "status": attempt.response_status,
                    "error_class": attempt.error_class,
                    "outcome": outcome.status.value,
                },
            )
        if decision.outcome is Outcome.DISABLE:
            log.warning("webhook %s disabled: %s", claimed.webhook.id, outcome.disable_webhook)
        await self._notices.after(claimed, outcome)

    async def _wait(self) -> None:
        """Until new work is signalled, a slot frees up, or the poll interval passes."""
        self._slot_freed.clear()
        waiters = [
            asyncio.ensure_future(self._store.wait_for_work(self._settings.poll_interval)),
            asyncio.ensure_future(self._stopping.wait()),
        ]
        cap = self._settings.per_webhook_concurrency
        full = self.in_flight >= self._settings.worker_concurrency
        held_back = self._backlogged or any(n >= cap for n in self._in_flight.values())
        if full or held_back:
            waiters.append(asyncio.ensure_future(self._slot_freed.wait()))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    async def _drain(self) -> None:
        if self._tasks:
            log.info("draining %d in-flight deliveries", len(self._tasks))
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._recorder.close()
        if self._own_sender:
            await self._sender.close()
