"""The delivery log's statements: events, attempts and deliveries across a workspace's webhooks,
filtered and paged either way, counted per webhook, and their content expunged.

Each listing comes in two orders: newest first (a page after a cursor) and oldest first (the
page before one, read back to front by the repository).
"""

from __future__ import annotations

from typing import NamedTuple

from hookline.store.statements.listing import Listing

_EVENT_AS = (
    ", ".join(
        f"e.{c} AS e_{c}"
        for c in ("id", "workspace_id", "type", "body", "idempotency_key", "created_at", "channels")
    )
    + ", e.tags AS e_tags"
)
_ATTEMPT = (
    "SELECT a.*, d.retry_base AS d_retry_base, d.event_id AS d_event_id,"
    f" CASE WHEN a.request_body_is_event = 1 THEN e.body END AS event_body, {_EVENT_AS}"
    " FROM attempts a JOIN deliveries d ON d.id = a.delivery_id"
    " JOIN events e ON e.id = d.event_id"
)
#: An attempt counts as a success when it had a 2xx answer and no error.
_OUTCOME = (
    "CASE WHEN a.error_class IS NULL AND COALESCE(a.response_status, 200) >= 200"
    " AND COALESCE(a.response_status, 200) < 300 THEN 0 ELSE 2 END = $?"
)
#: A channel or tag is a whole name of the event's JSON list: its JSON string (quotes included)
#: occurs in the list's text. REPLACE compares exactly on both databases, where SQLite's LIKE
#: would ignore case, and has no wildcards to escape.
_EVENT_FILTERS = (
    "REPLACE(e.channels, $?, '') <> e.channels",
    "REPLACE(e.tags, $?, '') <> e.tags",
    "e.type {in $?}",
)


def _both(head: str, params: int, conditions: tuple[str, ...], key: str) -> tuple[Listing, ...]:
    """The listing newest first after a cursor, and oldest first after one (for a page back)."""
    return (
        Listing(head, params, (f"{key} < $?", *conditions), f" ORDER BY {key} DESC"),
        Listing(head, params, (f"{key} > $?", *conditions), f" ORDER BY {key} ASC"),
    )


EVENTS = _both(
    "SELECT e.* FROM events e WHERE e.workspace_id = $1",
    1,
    ("e.created_at < $?", "e.created_at > $?", *_EVENT_FILTERS),
    "e.id",
)
_ATTEMPT_FILTERS = (
    _OUTCOME,
    "COALESCE(a.response_status, 0) >= $?",
    "COALESCE(a.response_status, 0) < $?",
    "a.started_at < $?",
    "a.started_at > $?",
    *_EVENT_FILTERS,
)
WEBHOOK_ATTEMPTS = _both(
    f"{_ATTEMPT} WHERE a.workspace_id = $1 AND a.webhook_id = $2", 2, _ATTEMPT_FILTERS, "a.id"
)
EVENT_ATTEMPTS = _both(
    f"{_ATTEMPT} WHERE a.workspace_id = $1 AND d.event_id = $2",
    2,
    ("a.webhook_id = $?", *_ATTEMPT_FILTERS),
    "a.id",
)
WEBHOOK_DELIVERIES = _both(
    f"SELECT d.*, {_EVENT_AS} FROM deliveries d JOIN events e ON e.id = d.event_id"
    " WHERE d.workspace_id = $1 AND d.webhook_id = $2",
    2,
    ("d.status = $?", "d.created_at < $?", "d.created_at > $?", *_EVENT_FILTERS),
    "d.id",
)
EVENT_DELIVERIES = _both(
    "SELECT d.* FROM deliveries d WHERE d.workspace_id = $1 AND d.event_id = $2", 2, (), "d.id"
)


#: The upper edges (ms) of the latency histogram's buckets, six a decade: a percentile is read
#: as the edge of the bucket it falls in, so it is at most 67 % above the true value (3 → 5).
LATENCY_EDGES_MS: tuple[float, ...] = (
    *(m * 10.0**k for k in range(4) for m in (1, 1.5, 2, 3, 5, 7)),
    *(10_000.0, 15_000.0, 20_000.0, 30_000.0, 50_000.0, 60_000.0),
)
#: ``x``'s floor, the same on both databases: CAST truncates on SQLite but rounds on
#: PostgreSQL, and FLOOR is missing from SQLite builds without their math functions.
_FLOOR = "(CAST({x} AS INTEGER) - CASE WHEN CAST({x} AS INTEGER) > {x} THEN 1 ELSE 0 END)"
# A broker's acknowledgement has no status code: no error and no status is a success too.
_SUCCESS = (
    "a.error_class IS NULL AND COALESCE(a.response_status, 200) >= 200"
    " AND COALESCE(a.response_status, 200) < 300"
)
#: A webhook's attempts started in ``[$3, $4)``, by time bucket (``$5`` seconds from ``$3``):
#: how many, how many succeeded, the longest, and per latency edge how many took at most that
#: long (``le_<i>``, cumulative already). ``$6`` and ``$7`` are ids around the window, for the
#: ``(webhook_id, id)`` index.
_HEALTH = (
    f"SELECT {_FLOOR.format(x='((a.started_at - $3) / $5)')} AS bucket, COUNT(*) AS n,"
    f" SUM(CASE WHEN {_SUCCESS} THEN 1 ELSE 0 END) AS ok, MAX(a.duration_ms) AS longest, "
    + ", ".join(
        f"SUM(CASE WHEN a.duration_ms <= {edge} THEN 1 ELSE 0 END) AS le_{i}"
        for i, edge in enumerate(LATENCY_EDGES_MS)
    )
    + " FROM attempts a WHERE a.workspace_id = $1 AND a.webhook_id = $2"
    " AND a.id >= $6 AND a.id < $7 AND a.started_at >= $3 AND a.started_at < $4"
    " GROUP BY bucket"
)


class LogSql(NamedTuple):
    event_by_key: str = (
        "SELECT e.* FROM event_keys k JOIN events e ON e.id = k.event_id"
        " WHERE k.workspace_id = $1 AND k.idempotency_key = $2"
    )
    attempt: str = f"{_ATTEMPT} WHERE a.workspace_id = $1 AND a.id = $2"
    latest_delivery: str = (
        "SELECT * FROM deliveries WHERE workspace_id = $1 AND event_id = $2 AND webhook_id = $3"
        " ORDER BY id DESC LIMIT 1"
    )
    #: Deliveries of a webhook by state; ``leased``: those a worker is attempting now.
    counts: str = (
        "SELECT status, COUNT(*) AS n, SUM(CASE WHEN lease_until > $5 THEN 1 ELSE 0 END)"
        " AS leased FROM deliveries WHERE workspace_id = $1 AND webhook_id = $2"
        " AND created_at >= $3 AND created_at < $4 GROUP BY status"
    )
    health: str = _HEALTH
    expunge_event: str = "UPDATE events SET body = '{}' WHERE workspace_id = $1 AND id = $2"
    expunge_attempt: str = (
        "UPDATE attempts SET response_body = '', response_headers = '{}'"
        " WHERE workspace_id = $1 AND id = $2"
    )
