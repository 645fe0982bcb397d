"""PostgreSQL's time partitions kept: made ahead of time, and dropped whole by retention.

Retention on PostgreSQL never deletes rows of the history tables. Once every row a span could
hold is older than ``HOOKLINE_RETENTION_DAYS`` (its end is before the cut-off), its partitions
are detached without blocking anything (``DETACH PARTITION … CONCURRENTLY``) and dropped: the
disk comes back at once, no vacuum follows and the claim's indexes carry no dead entries.

* A span's deliveries, attempts and window links go together, unless one of its deliveries is
  still pending (retrying, or paced behind a rate limit): then the span is kept whole until
  the last one finishes. Held deliveries of a disabled webhook expire after the retention
  period (:mod:`hookline.runtime.maintenance`), so they keep a span at most one more pass.
* A span's events go once no delivery left anywhere refers to them (a window's delivery, or
  one made just after midnight, can be a span newer than its events), and their idempotency
  keys go with them.
* A delivery sent again in the moment between the check and the detach is not lost: the
  detached partition is checked again, and attached back if it holds a pending delivery.

Several processes may run this at once; a partition another one is detaching or dropping is
left to it. See docs/operations.md, "Partitions and retention".
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import asyncpg

from hookline.domain.ids import id_time
from hookline.domain.partition_plan import Interval, Span, expired, horizon, to_create
from hookline.store.dialect import Dialect
from hookline.store.partition_ddl import (
    BY_NAME,
    DELIVERY_SIDE,
    EVENTS,
    LIST_PARTITIONS,
    TABLES,
    attach_partition,
    detach_partition,
    finish_detach,
    partition_name,
)
from hookline.store.tx import Tx

log = logging.getLogger(__name__)

_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")
#: The advisory lock that lets one process at a time create partitions.
_CREATING = 0x686F6F6B_70617274  # "hookpart"
#: How long creating a partition may wait for its locks before the pass gives up (the next
#: pass tries again; partitions are made days ahead).
_LOCK_TIMEOUT = "SET LOCAL lock_timeout = '5s'"
#: At most this many partitions of a table made in one pass: each holds a lock per index until
#: the transaction ends, and PostgreSQL's lock table is shared and bounded (64 per connection by
#: default). More are needed only after weeks without any process running, or with a clock far
#: ahead; the next passes go on.
MAX_NEW = 60
_DETACH_FAILURES = (
    asyncpg.UndefinedTableError,  # another process dropped it
    asyncpg.ObjectNotInPrerequisiteStateError,  # another process is detaching it
    asyncpg.InvalidObjectDefinitionError,  # not (or no longer) a partition
)


@dataclass(frozen=True)
class Partition:
    name: str
    span: Span
    detaching: bool = False


@dataclass
class Retention:
    """What one retention pass did: partitions dropped, and spans kept past the cut-off."""

    dropped: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


class PartitionRepository:
    """The partitions of ``events``, ``deliveries``, ``attempts`` and ``delivery_events``."""

    def __init__(self, dialect: Dialect) -> None:
        self._d = dialect

    async def partitions(self, table: str) -> list[Partition]:
        """A partitioned table's partitions, oldest first."""
        async with self._d.read() as conn:
            return await _partitions(conn, table)

    async def ensure(
        self, now: float, interval: Interval, *, since: float | None = None
    ) -> list[str]:
        """Make every table's partitions cover ``since`` (default: now) up to the current span
        and those ahead of it (``partition_plan.AHEAD``); the names of those made."""
        made: list[str] = []
        until = horizon(now, interval)
        async with self._d.tx() as tx:
            await tx.execute(_LOCK_TIMEOUT)
            await tx.execute("SELECT pg_advisory_xact_lock($1::bigint)", _CREATING)
            for t in TABLES:
                existing = [p.span for p in await _partitions(tx, t.table)]
                # Back in time only when asked: a clock set back must not refill the past.
                oldest = existing[0].lower if existing else now
                start = since if since is not None else max(now, oldest)
                wanted = to_create(existing, start, until, interval)
                if len(wanted) > MAX_NEW:  # a clock far ahead: the next passes go on
                    log.warning(
                        "%d partitions of %s to make; making %d", len(wanted), t.table, MAX_NEW
                    )
                for span in wanted[:MAX_NEW]:
                    for statement in attach_partition(t, span):
                        await tx.execute(statement)
                    made.append(partition_name(t.table, span))
        if made:
            log.info("made partitions %s", ", ".join(made))
        return made

    async def retain(self, cutoff: float) -> Retention:
        """Drop the partitions of spans that ended before ``cutoff`` and hold nothing still
        needed (see the module's text)."""
        done = Retention()
        async with self._d.read() as conn:
            await self._finish_detaches(conn, done)
            deliveries = {p.span: p for p in await _partitions(conn, "deliveries")}
            for span in expired(list(deliveries), cutoff):
                await self._drop_delivery_span(conn, span, done)
            remaining = {p.span for p in await _partitions(conn, "deliveries")}
            for t in DELIVERY_SIDE[1:]:  # left behind when another process took a detach
                for part in await _partitions(conn, t.table):
                    expired_alone = part.span.upper <= cutoff and part.span not in remaining
                    if expired_alone:
                        await _detach_and_drop(conn, t.table, part.name, done)
            for part in await _partitions(conn, EVENTS.table):
                if part.span.upper <= cutoff and part.span not in remaining:
                    await self._drop_events(conn, part, done)
        if done.dropped:
            log.info("retention dropped partitions %s", ", ".join(done.dropped))
        return done

    async def _drop_delivery_span(self, conn: Tx, span: Span, done: Retention) -> None:
        deliveries = partition_name("deliveries", span)
        if await _pending_in(conn, deliveries):
            done.kept.append(deliveries)
            return
        if not await _detach(conn, "deliveries", deliveries):
            return
        if await _pending_in(conn, deliveries):  # sent again just before the detach
            for statement in attach_partition(DELIVERY_SIDE[0], span)[1:]:
                await conn.execute(statement)
            done.kept.append(deliveries)
            return
        names = [deliveries]
        for t in DELIVERY_SIDE[1:]:
            name = partition_name(t.table, span)
            if await _detach(conn, t.table, name):
                names.append(name)
        for name in names:
            await conn.execute(f"DROP TABLE IF EXISTS {name}")
        done.dropped.extend(names)

    async def _drop_events(self, conn: Tx, part: Partition, done: Retention) -> None:
        if await _referenced(conn, part.span):
            done.kept.append(part.name)
            return
        lower, upper = part.span.bounds(EVENTS.prefix)
        await conn.execute(
            "DELETE FROM event_keys WHERE event_id >= $1 AND event_id < $2", lower, upper
        )
        await _detach_and_drop(conn, EVENTS.table, part.name, done)

    async def _finish_detaches(self, conn: Tx, done: Retention) -> None:
        """Finish what a detach cut short (its process ended mid-way): drop the partition, or
        attach it back if what it holds is still needed, as the pass that began it would have."""
        for t in TABLES:
            for part in await _partitions(conn, t.table):
                if not part.detaching:
                    continue
                try:
                    await conn.execute(finish_detach(t.table, part.name))
                except _DETACH_FAILURES as exc:
                    log.info("partition %s: left to another process (%s)", part.name, exc)
                    continue
                if await self._needed(conn, t.table, part):
                    await conn.execute(attach_partition(BY_NAME[t.table], part.span)[1])
                    done.kept.append(part.name)
                else:
                    await conn.execute(f"DROP TABLE IF EXISTS {part.name}")
                    done.dropped.append(part.name)

    async def _needed(self, conn: Tx, table: str, part: Partition) -> bool:
        """Whether a detached partition holds what must stay: a pending delivery, events a
        delivery refers to, or attempts and links of deliveries still attached."""
        if table == "deliveries":
            return await _pending_in(conn, part.name)
        if table == EVENTS.table:
            return await _referenced(conn, part.span)
        attached = await _partitions(conn, "deliveries")
        return any(p.span == part.span and not p.detaching for p in attached)


_REFERENCED = (
    "SELECT EXISTS (SELECT 1 FROM deliveries WHERE event_id >= $1 AND event_id < $2)"
    " OR EXISTS (SELECT 1 FROM delivery_events WHERE event_id >= $1 AND event_id < $2)"
    " AS referenced"
)


async def _referenced(conn: Tx, span: Span) -> bool:
    """Whether a delivery refers to an event of ``span``, directly or through a window."""
    found = await conn.fetchrow(_REFERENCED, *span.bounds(EVENTS.prefix))
    return found is not None and bool(found["referenced"])


async def _partitions(conn: Tx, table: str) -> list[Partition]:
    found = []
    for row in await conn.fetch(LIST_PARTITIONS, table):
        match = _BOUND.search(row["bound"] or "")
        if match is None:  # a default partition: not one of ours
            continue
        span = Span(id_time(match[1]), id_time(match[2]))
        found.append(Partition(row["name"], span, bool(row["detaching"])))
    return sorted(found, key=lambda p: p.span)


async def _pending_in(conn: Tx, partition: str) -> bool:
    row = await conn.fetchrow(
        f"SELECT EXISTS (SELECT 1 FROM {partition} WHERE status = 'pending') AS pending"
    )
    return row is not None and bool(row["pending"])


async def _detach_and_drop(conn: Tx, table: str, name: str, done: Retention) -> None:
    """Detach a partition and drop it, unless another process got there first."""
    if await _detach(conn, table, name):
        await conn.execute(f"DROP TABLE IF EXISTS {name}")
        done.dropped.append(name)


async def _detach(conn: Tx, table: str, name: str) -> bool:
    """Detach a partition concurrently; False if another process got there first."""
    try:
        await conn.execute(detach_partition(table, name))
    except _DETACH_FAILURES as exc:
        log.info("partition %s: left to another process (%s)", name, exc)
        return False
    return True
