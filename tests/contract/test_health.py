"""A webhook's health (``store.log.webhook_health``): counts, success rate, latency percentiles
and outcomes per time bucket, computed by the store from every attempt of a window: the same
answers from both databases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from hookline.domain.ids import new_id
from hookline.domain.models import Webhook
from hookline.domain.publication import new_delivery, new_event
from hookline.store import HealthBucket, Store, WebhookHealth
from hookline.store.statements.log import LATENCY_EDGES_MS
from tests.contract.test_store import FAILED, T0, claim, outcome, webhook, workspace

HOUR, DAY = 3600.0, 86_400.0


def _id_at(finished: float, n: int) -> str:
    """An attempt's id as the worker makes it, once the answer is in (``n`` keeps it unique)."""
    floor = new_id("att", at=finished, floor=True)
    return f"{floor[:-4]}{n:04d}"


async def attempts(
    store: Store,
    ws: str,
    hook: Webhook,
    started: Sequence[float],
    *,
    duration_ms: float = 12.5,
    durations: Sequence[float] = (),
    status: int | None = 200,
    error: str | None = None,
) -> None:
    """Record one attempt to ``hook`` per start time, through publish, claim and record."""
    times = durations or [duration_ms] * len(started)
    for at in started:
        event = new_event(ws, "order.created", {"at": at}, None, T0 - DAY)
        await store.publishing.publish(event, [new_delivery(event, hook.id, T0 - DAY)])
    claimed = sorted(await claim(store, T0 - DAY, limit=1000), key=lambda c: c.delivery.id)
    sent = []
    for n, (c, at, ms) in enumerate(zip(claimed, started, times, strict=True)):
        done = outcome(c, FAILED, at=at, http_status=status, error=error)
        made = _id_at(at + ms / 1000, n)
        sent.append(replace(done, attempt=replace(done.attempt, id=made, duration_ms=ms)))
    await store.queue.record(sent, T0)


async def health(
    store: Store,
    ws: str,
    hook: Webhook,
    since: float = T0,
    until: float = T0 + DAY,
    bucket: float = HOUR,
) -> WebhookHealth:
    return await store.log.webhook_health(
        ws, hook.id, since=since, until=until, bucket_seconds=bucket
    )


def counts(found: WebhookHealth) -> list[tuple[int, int]]:
    return [(b.succeeded, b.failed) for b in found.buckets]


async def test_an_empty_window_has_no_rates_and_every_bucket_at_zero(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    await attempts(store, ws, hook, [T0 - 1, T0 + DAY])  # just outside
    found = await health(store, ws, hook)
    assert (found.attempts, found.succeeded, found.failed) == (0, 0, 0)
    assert (found.success_rate, found.p50_ms, found.p90_ms, found.p99_ms) == (None,) * 4
    assert found.buckets == [HealthBucket(T0 + i * HOUR, 0, 0) for i in range(24)]


async def test_successes_are_2xx_answers_without_an_error(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    await attempts(store, ws, hook, [T0 + 1, T0 + 2, T0 + 3], status=200)
    await attempts(store, ws, hook, [T0 + 4], status=299)
    await attempts(store, ws, hook, [T0 + 5], status=500)
    await attempts(store, ws, hook, [T0 + 6], status=199)
    await attempts(store, ws, hook, [T0 + 7], status=300)
    await attempts(store, ws, hook, [T0 + 8], status=None, error="timed out")
    await attempts(store, ws, hook, [T0 + 9], status=200, error="body too large")
    found = await health(store, ws, hook)
    assert (found.attempts, found.succeeded, found.failed) == (9, 4, 5)
    assert found.success_rate == pytest.approx(4 / 9)
    assert counts(found)[0] == (4, 5)
    assert sum(b.succeeded + b.failed for b in found.buckets) == 9


async def test_percentiles_are_the_upper_edges_of_their_latency_buckets(
    store: Store, ws: str
) -> None:
    hook = await webhook(store, ws)
    await attempts(
        store, ws, hook, [T0 + i for i in range(100)], durations=[float(ms) for ms in range(1, 101)]
    )
    found = await health(store, ws, hook)
    assert found.attempts == 100
    for value, true in ((found.p50_ms, 50), (found.p90_ms, 90), (found.p99_ms, 99)):
        assert value is not None and value in LATENCY_EDGES_MS
        assert value >= true  # an upper bound ...
        below = LATENCY_EDGES_MS[LATENCY_EDGES_MS.index(value) - 1]
        assert below < true  # ... of the bucket the true value is in
    assert (found.p50_ms, found.p90_ms, found.p99_ms) == (50, 100, 100)


async def test_a_skewed_distribution_and_latencies_beyond_the_last_edge(
    store: Store, ws: str
) -> None:
    hook = await webhook(store, ws)
    fast, slow = [0.4] * 95, [2.5, 2.5, 2.5, 70_000.0, 90_000.0]
    await attempts(store, ws, hook, [T0 + i for i in range(100)], durations=fast + slow)
    found = await health(store, ws, hook)
    assert (found.p50_ms, found.p90_ms) == (1, 1)  # under a millisecond: the first edge
    assert found.p99_ms == 90_000.0  # past the last edge: the longest attempt


async def test_attempts_fall_in_hourly_buckets_from_the_windows_start(
    store: Store, ws: str
) -> None:
    hook = await webhook(store, ws)
    await attempts(store, ws, hook, [T0, T0 + 3 * HOUR, T0 + 3 * HOUR + 59 * 60], status=200)
    await attempts(store, ws, hook, [T0 + 4 * HOUR - 0.001, T0 + 23 * HOUR + 3599], status=503)
    await attempts(store, ws, hook, [T0 + 5 * HOUR], status=None, error="refused")
    await attempts(store, ws, hook, [T0 + DAY, T0 - 0.001])  # at ``until``, before ``since``
    found = await health(store, ws, hook)
    assert [b.start for b in found.buckets] == [T0 + i * HOUR for i in range(24)]
    expected = [(0, 0)] * 24
    expected[0] = (1, 0)  # at exactly the window's start
    expected[3] = (2, 1)  # from its first second to its last millisecond
    expected[5] = (0, 1)
    expected[23] = (0, 1)
    assert counts(found) == expected
    assert (found.attempts, found.succeeded, found.failed) == (6, 3, 3)


async def test_daily_buckets_over_a_week_and_a_window_cut_short(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    await attempts(store, ws, hook, [T0 + DAY, T0 + 2 * DAY - 1, T0 + 6 * DAY + 5])
    week = await health(store, ws, hook, until=T0 + 7 * DAY, bucket=DAY)
    assert counts(week) == [(0, 0), (2, 0), (0, 0), (0, 0), (0, 0), (0, 0), (1, 0)]
    # A window that is no whole number of buckets: the last one ends early, at ``until``.
    short = await health(store, ws, hook, until=T0 + DAY + 1, bucket=HOUR)
    assert len(short.buckets) == 25 and counts(short)[24] == (1, 0)


async def test_an_attempt_answered_after_the_window_still_counts_by_its_start(
    store: Store, ws: str
) -> None:
    hook = await webhook(store, ws)
    await attempts(store, ws, hook, [T0 + DAY - 0.5], duration_ms=30_000.0)
    found = await health(store, ws, hook)
    assert counts(found)[23] == (1, 0) and found.p50_ms == 30_000


async def test_only_the_workspaces_webhook_counts(store: Store, ws: str) -> None:
    hook, other = await webhook(store, ws), await webhook(store, ws, "other")
    await attempts(store, ws, hook, [T0 + 1])
    await attempts(store, ws, other, [T0 + 2, T0 + 3])
    theirs = await workspace(store, "theirs")
    their_hook = await webhook(store, theirs)
    await attempts(store, theirs, their_hook, [T0 + 4])
    assert (await health(store, ws, hook)).attempts == 1
    assert (await health(store, ws, other)).attempts == 2
    assert (await health(store, theirs, hook)).attempts == 0  # not their webhook
    assert (await health(store, ws, their_hook)).attempts == 0


async def test_a_window_without_buckets_is_refused(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    for since, until, bucket in ((T0, T0, HOUR), (T0, T0 - 1, HOUR), (T0, T0 + DAY, 0.0),
                                 (T0, T0 + 365 * DAY, 60.0)):  # fmt: skip
        with pytest.raises(ValueError):
            await health(store, ws, hook, since, until, bucket)
