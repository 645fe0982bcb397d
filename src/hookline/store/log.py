"""The delivery log: a workspace's events, attempts and deliveries read across its webhooks,
filtered (channel, tag, event types, time, outcome, status code) and paged in either direction;
a webhook's deliveries counted by state and its health (success rate, latency percentiles,
outcomes over time) computed from every attempt of a window; an event's or an attempt's content
expunged.

This is what the Svix-compatible API's messages and attempts read, and what a customer's view of
their own endpoints needs: the history repository answers Hookline's own listings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from hookline.domain.ids import new_id
from hookline.domain.models import MAX_TIMEOUT, Delivery, DeliveryStatus, Event
from hookline.store import rows
from hookline.store.dialect import Dialect
from hookline.store.records import (
    DeliveryCounts,
    HealthBucket,
    LogAttempt,
    LogDelivery,
    LogPage,
    LogQuery,
    WebhookHealth,
)
from hookline.store.statements.listing import Listing, RenderedListing
from hookline.store.statements.log import (
    EVENT_ATTEMPTS,
    EVENT_DELIVERIES,
    EVENTS,
    LATENCY_EDGES_MS,
    WEBHOOK_ATTEMPTS,
    WEBHOOK_DELIVERIES,
    LogSql,
)

#: An attempt's id is made once its answer is in, at most the request timeout after it started
#: (an email's send is bounded alike); the window's id range reaches this far past its end.
_ID_SLACK_SECONDS = 60 * MAX_TIMEOUT
#: The most time buckets one health read returns.
MAX_HEALTH_BUCKETS = 10_000


class _Paged:
    """A listing in both orders: newest first after a cursor, or the page before a cursor."""

    def __init__(self, listings: tuple[Listing, ...], dialect: Dialect) -> None:
        self.newest_first, self.oldest_first = (RenderedListing(x, dialect) for x in listings)


class LogRepository:
    """Filtered, paged reads across webhooks (see the module's text)."""

    def __init__(self, dialect: Dialect) -> None:
        self._d = dialect
        self._sql = dialect.prepare(LogSql())
        self._events = _Paged(EVENTS, dialect)
        self._webhook_attempts = _Paged(WEBHOOK_ATTEMPTS, dialect)
        self._event_attempts = _Paged(EVENT_ATTEMPTS, dialect)
        self._webhook_deliveries = _Paged(WEBHOOK_DELIVERIES, dialect)
        self._event_deliveries = _Paged(EVENT_DELIVERIES, dialect)

    # -- events ---------------------------------------------------------------------------------
    async def list_events(self, workspace_id: str, q: LogQuery) -> LogPage:
        """The workspace's events, newest first (``q``: cursor, created before/after, channel,
        tag, event types)."""
        filters = (q.before, q.after, *self._event_filters(q))
        found = await self._page(self._events, (workspace_id,), filters, q)
        return LogPage([rows.event(r) for r in found.rows], found.more)

    async def find_event_by_key(self, workspace_id: str, key: str) -> Event | None:
        """The event published with this idempotency key (its uid), if any."""
        row = await self._d.fetchrow(self._sql.event_by_key, workspace_id, key)
        return None if row is None else rows.event(row)

    async def expunge_event(self, workspace_id: str, event_id: str) -> bool:
        """Replace the event's payload by ``{}`` (attempts that sent it unchanged show it too)."""
        return await self._d.write(self._sql.expunge_event, workspace_id, event_id) == 1

    # -- attempts -------------------------------------------------------------------------------
    async def list_webhook_attempts(
        self, workspace_id: str, webhook_id: str, q: LogQuery
    ) -> LogPage:
        """A webhook's attempts, newest first (``q``: outcome, status-code class, started
        before/after, the event's channel, tag and type)."""
        filters = self._attempt_filters(q)
        found = await self._page(self._webhook_attempts, (workspace_id, webhook_id), filters, q)
        return LogPage([_log_attempt(r) for r in found.rows], found.more)

    async def list_event_attempts(self, workspace_id: str, event_id: str, q: LogQuery) -> LogPage:
        """An event's attempts to every webhook, newest first (``q.webhook_id`` for one)."""
        filters = (q.webhook_id, *self._attempt_filters(q))
        found = await self._page(self._event_attempts, (workspace_id, event_id), filters, q)
        return LogPage([_log_attempt(r) for r in found.rows], found.more)

    async def get_attempt(self, workspace_id: str, attempt_id: str) -> LogAttempt | None:
        row = await self._d.fetchrow(self._sql.attempt, workspace_id, attempt_id)
        return None if row is None else _log_attempt(row)

    async def expunge_attempt(self, workspace_id: str, attempt_id: str) -> bool:
        """Forget what the receiver answered (body and headers)."""
        return await self._d.write(self._sql.expunge_attempt, workspace_id, attempt_id) == 1

    # -- deliveries -----------------------------------------------------------------------------
    async def list_webhook_deliveries(
        self, workspace_id: str, webhook_id: str, q: LogQuery
    ) -> LogPage:
        """A webhook's deliveries with their events, newest first (``q``: delivery status,
        created before/after, the event's channel, tag and type)."""
        status = None if q.status is None else q.status.value
        filters = (status, q.before, q.after, *self._event_filters(q))
        found = await self._page(self._webhook_deliveries, (workspace_id, webhook_id), filters, q)
        items = [LogDelivery(rows.delivery(r), rows.event(r, "e_")) for r in found.rows]
        return LogPage(items, found.more)

    async def list_event_deliveries(self, workspace_id: str, event_id: str, q: LogQuery) -> LogPage:
        """An event's deliveries, one per webhook it was queued for, newest first."""
        found = await self._page(self._event_deliveries, (workspace_id, event_id), (), q)
        return LogPage([rows.delivery(r) for r in found.rows], found.more)

    async def latest_delivery(
        self, workspace_id: str, event_id: str, webhook_id: str
    ) -> Delivery | None:
        """The newest delivery of the event to the webhook."""
        row = await self._d.fetchrow(self._sql.latest_delivery, workspace_id, event_id, webhook_id)
        return None if row is None else rows.delivery(row)

    async def count_deliveries(
        self, workspace_id: str, webhook_id: str, since: float, until: float, now: float
    ) -> DeliveryCounts:
        """A webhook's deliveries made in ``[since, until)`` by state."""
        args = (workspace_id, webhook_id, since, until, now)
        counts = {r["status"]: (int(r["n"]), int(r["leased"] or 0)) for r in
                  await self._d.fetch(self._sql.counts, *args)}  # fmt: skip
        pending, leased = counts.get(DeliveryStatus.PENDING.value, (0, 0))
        return DeliveryCounts(
            succeeded=counts.get(DeliveryStatus.SUCCEEDED.value, (0, 0))[0],
            failed=counts.get(DeliveryStatus.FAILED.value, (0, 0))[0],
            pending=pending - leased,
            sending=leased,
        )

    async def webhook_health(
        self,
        workspace_id: str,
        webhook_id: str,
        *,
        since: float,
        until: float,
        bucket_seconds: float,
    ) -> WebhookHealth:
        """The webhook's attempts started in ``[since, until)``: counts, success rate, latency
        percentiles, and successes and failures per ``bucket_seconds`` from ``since`` (the last
        bucket may end early, at ``until``).

        One aggregate query over every attempt of the window, none read into Python: a success
        is a 2xx answer without an error. Latencies are counted in SQL under fixed logarithmic
        edges (:data:`~hookline.store.statements.log.LATENCY_EDGES_MS`, 1 ms to 60 s, six a
        decade), so a percentile is reported as the upper edge of the bucket where the
        cumulative count reaches its rank (nearest-rank): an upper bound at most 67 % above the
        true value. Beyond the last edge it is the longest attempt.

        The window is found through the ``(webhook_id, id)`` index: ids sort by the time they
        were made, which is after an attempt started and within its timeout of it. An attempt
        at a bucket's exact start is in that bucket when ``since`` and ``bucket_seconds`` are
        whole seconds (or any times whose sums are exact in floating point).
        """
        count = math.ceil((until - since) / bucket_seconds) if bucket_seconds > 0 else 0
        if not 0 < count <= MAX_HEALTH_BUCKETS:
            raise ValueError(f"{count} buckets of {bucket_seconds} s in [{since}, {until})")
        ids = (
            new_id("att", at=since, floor=True),
            new_id("att", at=until + _ID_SLACK_SECONDS, floor=True),
        )
        args = (workspace_id, webhook_id, since, until, bucket_seconds, *ids)
        found = await self._d.fetch(self._sql.health, *args)
        return _health(found, since, bucket_seconds, count)

    # -- paging ---------------------------------------------------------------------------------
    def _event_filters(self, q: LogQuery) -> tuple[Any, ...]:
        return (
            None if q.channel is None else _contains_name(q.channel),
            None if q.tag is None else _contains_name(q.tag),
            self._d.list_param(list(q.event_types)) if q.event_types else None,
        )

    def _attempt_filters(self, q: LogQuery) -> tuple[Any, ...]:
        low, high = (None, None) if q.code_class is None else (q.code_class, q.code_class + 100)
        if q.code_class == 0:
            low, high = 0, 100  # no answer at all: stored as NULL, read as 0
        return (q.outcome, low, high, q.before, q.after, *self._event_filters(q))

    async def _page(
        self, paged: _Paged, head: Sequence[Any], filters: Sequence[Any], q: LogQuery
    ) -> _Rows:
        listing = paged.oldest_first if q.backwards else paged.newest_first
        sql, args = listing.query(head, (q.cursor, *filters), q.limit)
        found = list(await self._d.fetch(sql, *args))
        more = len(found) > q.limit
        found = found[: q.limit]
        return _Rows(found[::-1] if q.backwards else found, more)


class _Rows:
    __slots__ = ("more", "rows")

    def __init__(self, found: list[Any], more: bool) -> None:
        self.rows, self.more = found, more


def _contains_name(name: str) -> str:
    """What a JSON list of names holds exactly when it holds ``name``: its JSON string."""
    return rows.dumps(name)


def _log_attempt(row: Any) -> LogAttempt:
    attempt = rows.attempt(row)
    # The first attempt after a manual retry or replay (which sets ``retry_base``) was
    # triggered by hand; a later retry by hand moves ``retry_base`` on.
    retry_base = int(row["d_retry_base"])
    manual = retry_base > 0 and attempt.number == retry_base + 1
    return LogAttempt(attempt, rows.event(row, "e_"), manual)


def _health(found: Sequence[Any], since: float, bucket_seconds: float, count: int) -> WebhookHealth:
    """The health of the rows of the ``health`` statement (one per time bucket with attempts)."""
    per_bucket = [[0, 0] for _ in range(count)]
    total = succeeded = 0
    within = [0] * len(LATENCY_EDGES_MS)
    longest = 0.0
    for row in found:
        n, ok = int(row["n"]), int(row["ok"])
        # Rounding at the window's end may put an attempt one bucket past the last.
        slot = per_bucket[min(max(int(row["bucket"]), 0), count - 1)]
        slot[0] += ok
        slot[1] += n - ok
        total, succeeded = total + n, succeeded + ok
        longest = max(longest, float(row["longest"]))
        for i in range(len(within)):
            within[i] += int(row[f"le_{i}"])
    p50, p90, p99 = (_percentile(p, total, within, longest) for p in (50, 90, 99))
    buckets = [HealthBucket(since + i * bucket_seconds, ok, failed)
               for i, (ok, failed) in enumerate(per_bucket)]  # fmt: skip
    return WebhookHealth(
        attempts=total,
        succeeded=succeeded,
        failed=total - succeeded,
        success_rate=succeeded / total if total else None,
        p50_ms=p50,
        p90_ms=p90,
        p99_ms=p99,
        buckets=buckets,
    )


def _percentile(p: int, total: int, within: list[int], longest: float) -> float | None:
    """The upper edge of the latency bucket holding the ``p``-th percentile (nearest rank)."""
    if not total:
        return None
    rank = max(1, math.ceil(p * total / 100))
    for edge, n in zip(LATENCY_EDGES_MS, within, strict=True):
        if n >= rank:
            return edge
    return longest
