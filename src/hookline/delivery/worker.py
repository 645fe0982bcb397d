"""The delivery worker: claim in batches ahead of need, deliver concurrently under per-webhook
limits, record results in batches. Wakes on a notification, polls as a fallback, drains on stop.

Pipelining: the worker holds up to ``worker_concurrency`` requests in flight plus a prefetch of
claimed deliveries waiting for a slot, and a new claim is made while the prefetch still lasts,
so claim latency is hidden. Requests are sent by long-lived runner tasks, one per slot, started
as work arrives: a runner that finishes a request takes the next waiting delivery itself, so a
busy worker creates no task per delivery.

Isolation: each webhook has an adaptive limit on its requests in flight, which also bounds what
the worker claims and holds of it, and webhooks that time out share a quarter of the worker
(:mod:`hookline.delivery.scheduler`), so slow or dead endpoints never hold the whole worker.

Time: a retry, and a delivery given back to wait for its rate, is due at a time nothing
announces; the worker that put it off wakes itself then (:mod:`hookline.delivery.due_wakeups`),
so it is attempted on time rather than at the next poll.

Pace: a delivery waits for its webhook's rate limit and for its workspace's throttle rate
(:mod:`hookline.delivery.workspace_rates`, re-read from the store at most every few seconds,
between claims), whichever is longer; one that would wait more than two seconds goes back to
the queue until then. Both paces are kept per worker process: with N workers, a webhook or a
workspace may receive up to N times its rate.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable
from functools import partial

from hookline.delivery.attempt import attempt_delivery
from hookline.delivery.destinations.pool import Destinations
from hookline.delivery.due_wakeups import DueWakeups
from hookline.delivery.email import smtp_config
from hookline.delivery.notices import Notices
from hookline.delivery.recorder import Recorder
from hookline.delivery.scheduler import Scheduler, found_all_due
from hookline.delivery.sender import Sender
from hookline.delivery.workspace_rates import REFRESH_SECONDS, WorkspaceRates
from hookline.domain.address_policy import AddressPolicy
from hookline.domain.models import MAX_TIMEOUT, AttemptOutcome, Claimed, DeliveryStatus
from hookline.domain.retry import Decision, Outcome
from hookline.errors import StoreError
from hookline.runtime import tracing
from hookline.settings import Settings
from hookline.store import Store

log = logging.getLogger(__name__)
# Longer than this and a rate-limited delivery goes back to the queue instead of holding a slot.
_MAX_LOCAL_WAIT = 2.0


def _makes_work(claimed: Claimed, outcome: AttemptOutcome) -> bool:
    """Whether recording this outcome can make a delivery due at once: an ordered webhook's
    next delivery waits for this one to end, and a retry may be due right away."""
    if claimed.webhook.config.ordering == "fifo":
        return True
    return outcome.status is DeliveryStatus.PENDING and outcome.next_attempt_at - time.time() < 1.0


class Worker:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        sender: Sender | None = None,
        destinations: Destinations | None = None,
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
        # Broker connections: the process's when given (closed by it), else the worker's own.
        self._own_destinations = destinations is None
        self._destinations = destinations or Destinations(AddressPolicy(settings.allowed_networks))
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._smtp = smtp_config(settings.smtp_url)
        self._recorder = Recorder(store)
        self._notices = Notices(store)
        self._slots = settings.worker_concurrency
        # Claimed deliveries may wait for a slot, up to this many: enough to cover a claim's
        # round trip at full speed, and never so long that a lease could run out (see _start).
        self._capacity = self._slots + max(1, min(settings.claim_batch, self._slots))
        self._refill_at = self._capacity - max(1, self._capacity // 4)
        # A delivery that waited longer than this for a slot is given back, not sent: its lease
        # must outlast the longest request (a rate-limit wait plus the longest timeout).
        self._scheduler = Scheduler(
            settings.per_webhook_concurrency,
            self._slots,
            stale_after=max(1.0, settings.lease_seconds - MAX_TIMEOUT - _MAX_LOCAL_WAIT - 1),
        )
        self._workspace_rates = WorkspaceRates()
        # Retries and paced deliveries this worker put off: woken when they fall due.
        self._due = DueWakeups(store.notify_local)
        self._rates_due = 0.0  # monotonic time of the next read of the workspace rates
        self._excluded: set[str] = set()
        self._limited = False
        self._found_nothing = False  # the last claim returned no delivery
        # When the next claim may be made, if the last one found all that was due (monotonic).
        self._next_claim = 0.0
        self._runners: set[asyncio.Task[None]] = set()
        self._idle: list[asyncio.Future[Claimed | None]] = []  # runners waiting for work
        self._closing = False
        self._room = asyncio.Event()
        self._stopping = asyncio.Event()
        self._on_outcome = on_outcome

    @property
    def in_flight(self) -> int:
        return len(self._runners) - len(self._idle)

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
                await self._refresh_rates()
                claimed = await self._claim()
                await self._give_back(self._scheduler.take_stale())
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
            self._accept(claimed)
            if not claimed or self._scheduler.total > self._refill_at:
                await self._wait()

    async def _refresh_rates(self) -> None:
        """Read the workspaces' throttle rates again when they are due (one query every
        ``REFRESH_SECONDS`` at most, whatever the number of deliveries)."""
        now = time.monotonic()
        if now < self._rates_due:
            return
        self._rates_due = now + REFRESH_SECONDS
        try:
            self._workspace_rates.replace(await self._store.config.workspace_throttle_rates())
        except (StoreError, OSError) as exc:
            log.warning("reading the workspace throttle rates failed, keeping the last: %s", exc)

    async def _claim(self) -> list[Claimed]:
        await self._spaced()
        if self._stopping.is_set():  # stopped while waiting
            return []
        if self._scheduler.total > self._refill_at:
            self._limited = True  # wake up when enough of what is held is done
            return []
        limit = min(self._capacity - self._scheduler.total, self._settings.claim_batch)
        self._excluded, rooms, default_room = self._scheduler.claim_terms(time.monotonic())
        self._limited = bool(self._excluded) or limit < self._settings.claim_batch
        started = time.monotonic()
        claimed = await self._store.queue.claim(
            self.worker_id,
            limit=limit,
            lease_seconds=self._settings.lease_seconds,
            exclude=sorted(self._excluded),
            now=time.time(),
            rooms=rooms,
            default_room=default_room,
        )
        self._found_nothing = not claimed
        # Found some, and all that was due (no webhook was left out, none filled its room):
        # what falls due next waits to share a claim.
        drained = not self._excluded and found_all_due(claimed, limit, rooms, default_room)
        self._next_claim = started + self._settings.claim_interval if drained else 0.0
        return await self._within_cap(claimed)

    async def _spaced(self) -> None:
        """Wait out ``claim_interval`` after a claim that found all that was due.

        A claim costs the database the same whether it leases one delivery or a hundred (it is
        planned afresh, and takes five round trips). Under steady load a worker woken for every
        few publishes would claim a handful at a time, over and over; spaced, each claim takes
        what arrived over the interval. An idle worker (its last claim found nothing) and one
        working through a backlog (its last claim filled its limit or a webhook's room) claim
        at once."""
        delay = self._next_claim - time.monotonic()
        if delay > 0:
            await self._sleep(delay)

    async def _within_cap(self, claimed: list[Claimed]) -> list[Claimed]:
        """The claimed deliveries this worker keeps; the rest are given back at once."""
        keep, excess = self._scheduler.admit(claimed)
        if excess:
            self._limited = True
            await self._give_back(excess)
        return keep

    async def _give_back(self, delivery_ids: list[str]) -> None:
        if not delivery_ids:
            return
        try:
            await self._store.queue.release(delivery_ids, not_before=time.time())
        except (StoreError, OSError) as exc:
            # Their leases expire and they are claimed again: late, never lost.
            log.warning("giving back %d deliveries failed: %s", len(delivery_ids), exc)

    def _accept(self, claimed: list[Claimed]) -> None:
        self._scheduler.hold(claimed, time.monotonic())
        self._start()

    def _start(self) -> None:
        """Hand deliveries that may start to idle runners, and start runners for the rest while
        fewer than the slots run."""
        scheduler, idle = self._scheduler, self._idle
        while idle or len(self._runners) < self._slots:
            claimed = scheduler.take(time.monotonic())
            if claimed is None:
                return
            while idle:
                waiter = idle.pop()
                if not waiter.done():  # not cancelled
                    waiter.set_result(claimed)
                    break
            else:
                runner = asyncio.create_task(self._run_deliveries(claimed))
                self._runners.add(runner)
                runner.add_done_callback(self._runners.discard)

    async def _run_deliveries(self, claimed: Claimed | None) -> None:
        """One slot: deliver, then take the next delivery that may start, or wait for one."""
        scheduler = self._scheduler
        loop = asyncio.get_running_loop()
        while claimed is not None:
            webhook_id = claimed.webhook.id
            try:
                await self._deliver(claimed)
            except Exception:
                log.exception("delivery failed unexpectedly", extra={"webhook_id": webhook_id})
            scheduler.finish(webhook_id)
            # Claim again when room has freed up: the worker's (unless the last claim found
            # nothing: then only new work, a poll or a webhook's own room is worth a claim),
            # or the room of a webhook the last claim left out.
            if self._limited and (
                (scheduler.total <= self._refill_at and not self._found_nothing)
                or (webhook_id in self._excluded and scheduler.has_room(webhook_id))
            ):
                self._room.set()
            if self._closing:
                return
            claimed = scheduler.take(time.monotonic())
            if claimed is None:
                waiter: asyncio.Future[Claimed | None] = loop.create_future()
                self._idle.append(waiter)
                claimed = await waiter
            elif self._idle:
                self._start()  # this request's end may let more than one start

    async def _deliver(self, claimed: Claimed) -> None:
        throttle = self._scheduler.throttle(claimed.webhook)
        workspace_id, now = claimed.webhook.workspace_id, time.monotonic()
        wait = self._workspace_rates.pace(workspace_id, throttle, now, _MAX_LOCAL_WAIT)
        if wait > _MAX_LOCAL_WAIT:
            due = time.time() + wait
            await self._store.queue.release([claimed.delivery.id], not_before=due)
            self._due.add(due)
            return
        if wait > 0:
            await asyncio.sleep(wait)
        if tracing.active is None:
            outcome, decision = await self._send(claimed, None)
        else:  # the attempt in a span of its own, its trace context on what it sends
            outcome, decision = await tracing.active.attempt(claimed, partial(self._send, claimed))
        throttle.observe(outcome.attempt.response_status, time.monotonic())
        self._scheduler.observe(claimed.webhook.id, outcome.attempt.error_class)
        self._recorder.add(outcome, makes_work=_makes_work(claimed, outcome))
        if outcome.status is DeliveryStatus.PENDING:
            self._due.add(outcome.next_attempt_at)
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

    async def _send(
        self, claimed: Claimed, trace_headers: dict[str, str] | None
    ) -> tuple[AttemptOutcome, Decision]:
        """One attempt, with the trace context of its span when traces are exported."""
        return await attempt_delivery(
            self._sender,
            claimed,
            smtp=self._smtp,
            max_body_bytes=self._settings.max_body_bytes,
            destinations=self._destinations,
            trace_headers=trace_headers,
        )

    async def _wait(self) -> None:
        """Until new work is signalled, room for a claim frees up, or the poll interval passes."""
        self._room.clear()
        waiters = [
            asyncio.ensure_future(self._store.wait_for_work(self._settings.poll_interval)),
            asyncio.ensure_future(self._stopping.wait()),
        ]
        if self._limited:
            waiters.append(asyncio.ensure_future(self._room.wait()))
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
        # Deliveries claimed but not started go back to the queue now rather than when their
        # leases end: another worker can send them at once.
        self._closing = True
        await self._give_back(self._scheduler.clear())
        busy = self.in_flight
        for waiter in self._idle:
            if not waiter.done():
                waiter.set_result(None)
        self._idle.clear()
        if busy:
            log.info("draining %d in-flight deliveries", busy)
        await asyncio.gather(*self._runners, return_exceptions=True)
        await self._recorder.close()
        self._due.close()
        if self._own_sender:
            await self._sender.close()
        if self._own_destinations:
            await self._destinations.close()
