"""The queue's statements: claims under a lease, attempt results, give-backs, queue figures."""

from __future__ import annotations

from typing import NamedTuple

from hookline.store import rows
from hookline.store.held import HOLD


class ClaimedRow(NamedTuple):
    """A row the claim returns, by column name (its statement returns exactly these columns,
    in this order, so a row becomes one with ``ClaimedRow._make``)."""

    id: str
    workspace_id: str
    event_id: str
    webhook_id: str
    status: str
    attempts: int
    retry_base: int
    next_attempt_at: float
    last_status: int | None
    last_error: str | None
    created_at: float
    updated_at: float
    batch_size: int


_ATTEMPT_MARKS = ", ".join(f"${i}" for i in range(1, len(rows.ATTEMPT_COLUMNS) + 1))


class QueueSql(NamedTuple):
    #: The first ``$2`` due rows are the candidates (locked, skipping rows other workers are
    #: claiming); of each webhook's candidates only the oldest room ($6 by webhook, else $7)
    #: are leased. The others stay unleased: no write, no give-back, free again at commit.
    #: Deliveries of the webhooks in ``$5`` and of disabled webhooks are left out by id: the
    #: disabled ones are read once per claim by an uncorrelated subquery (on a tiny partial
    #: index), a filter, not a join, so the plan stays on the due index whatever the planner
    #: believes, and the claim costs no separate round trip for them.
    #: ``$8``: no pending delivery has a lower id (see ``pending_floor``); ``$9`` (PostgreSQL
    #: only, see ``{ceiling}``): none has a higher one (ids are made when a delivery is
    #: queued; see ``QueueRepository.claim``).
    #: The leased rows are looked up by id among the ranked ones (``{in_rows}``): written as a
    #: plain ``IN``, PostgreSQL planned a young partition (no statistics, so "one row" on
    #: each side) as a join that ranked the candidates again for every delivery in the id
    #: range, finished ones included: 46 ms for a claim of 140 among 390 rows, growing with
    #: the partition, against 1 ms.
    claim: str = (
        "WITH c AS (SELECT d.id, d.webhook_id, d.next_attempt_at FROM deliveries d"
        " WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND d.id >= $8{ceiling d.id $9}"
        " AND d.lease_until < $1 AND d.webhook_id {not_in $5}"
        " AND d.webhook_id NOT IN (SELECT w.id FROM webhooks w WHERE w.enabled = 0)"
        " AND (d.ordered = 0 OR NOT EXISTS (SELECT 1 FROM deliveries p"
        "  WHERE p.webhook_id = d.webhook_id AND p.status = 'pending' AND p.id < d.id"
        "  AND p.id >= $8{ceiling p.id $9}))"
        " ORDER BY d.next_attempt_at LIMIT $2{lock}),"
        " r AS (SELECT c.id, c.webhook_id, ROW_NUMBER() OVER"
        "  (PARTITION BY c.webhook_id ORDER BY c.next_attempt_at, c.id) AS n FROM c)"
        " UPDATE deliveries SET lease_until = $1 + $3, leased_by = $4"
        " WHERE id >= $8{ceiling id $9} AND id {in_rows}"
        "(SELECT r.id FROM r WHERE r.n <= COALESCE({room $6 r.webhook_id}, $7)){end_rows}"
        f" RETURNING {', '.join(ClaimedRow._fields)}"
    )
    #: The oldest pending delivery. Each claim is bounded below by (about) its id: planned for
    #: that value, it reads only the time partitions from that delivery's on, not every one
    #: of the retention period (PostgreSQL; docs/operations.md, "Partitions and retention").
    pending_floor: str = "SELECT MIN(id) AS id FROM deliveries WHERE status = 'pending'"
    #: A claim's events, each once, in the order of :class:`~hookline.domain.models.Event`.
    claimed_events: str = (
        f"SELECT {', '.join(rows.EVENT_COLUMNS[:6])} FROM events WHERE id {{in $1}}"
    )
    #: The same with the trace context of each event's publish last, for a worker that
    #: exports traces.
    claimed_traced_events: str = (
        f"SELECT {', '.join(rows.EVENT_COLUMNS[:6])}, traceparent FROM events WHERE id {{in $1}}"
    )
    #: A claim's webhooks, each once, in the columns the webhook decoder reads.
    claimed_webhooks: str = f"SELECT {rows.WEBHOOK_COLUMNS} FROM webhooks WHERE id {{in $1}}"
    insert_attempt: str = (
        f"INSERT INTO attempts ({', '.join(rows.ATTEMPT_COLUMNS)}) SELECT {_ATTEMPT_MARKS}"
        # Not for a delivery deleted (with its webhook) while the attempt was in flight. (The
        # last parameter is the delivery id again: PostgreSQL would deduce two types for one.)
        f" WHERE EXISTS (SELECT 1 FROM deliveries WHERE id = ${len(rows.ATTEMPT_COLUMNS) + 1})"
    )
    finish_delivery: str = (
        "UPDATE deliveries SET status = $2, attempts = attempts + 1, next_attempt_at = $3,"
        " lease_until = 0, leased_by = NULL, last_status = $4, last_error = $5, updated_at = $6"
        # A late result from an expired lease must not undo a success recorded since.
        " WHERE id = $1 AND status <> 'succeeded'"
    )
    release: str = (
        "UPDATE deliveries SET lease_until = 0, leased_by = NULL, next_attempt_at = $2"
        " WHERE id {in $1} AND status = 'pending'"
    )
    next_due_at: str = (
        "SELECT MIN(next_attempt_at) AS t FROM deliveries"
        f" WHERE status = 'pending' AND next_attempt_at < {HOLD}"
    )
    queue_stats: str = (
        "SELECT COUNT(*) AS n,"
        f" MIN(CASE WHEN next_attempt_at < {HOLD} THEN next_attempt_at END) AS t"
        " FROM deliveries WHERE status = 'pending'"
    )
    #: Under the row lock that orders expiring with enabling the webhook.
    webhook_enabled: str = "SELECT enabled FROM webhooks WHERE id = $1{row_lock}"
    expiring: str = (
        "SELECT d.id, e.type FROM deliveries d JOIN events e ON e.id = d.event_id"
        " WHERE d.webhook_id = $1 AND d.created_at < $2 AND d.status = 'pending'"
        " AND d.lease_until < $3 LIMIT $4"
    )
    expire: str = (
        "UPDATE deliveries SET status = 'failed', last_error = $2, next_attempt_at = $3,"
        " lease_until = 0, leased_by = NULL, updated_at = $3 WHERE id {in $1}"
        " AND status = 'pending'"
    )
