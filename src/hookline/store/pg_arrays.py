"""Many rows written on PostgreSQL as one statement over arrays.

``executemany`` runs its statement once per row: each execution is a bind, a portal and an
executor start-up in the server. For the batches Hookline writes (a publish's events and
deliveries, a worker's attempt results) that cost about as much server CPU as the writes
themselves: 61-83 µs per published event against 29-48 µs here, and ~80 against ~55 µs per
recorded result. Here each column travels as one typed array, and ``unnest`` turns the arrays
back into rows.

A plain publish (no idempotency key, no window, no disabled webhook: what most are) goes further:
its events and their deliveries are written by one statement, committed on its own. A group of
publishes otherwise costs five round trips (``BEGIN``, the workspaces' config versions, the
events, the deliveries, ``COMMIT``), each waiting its turn in a busy API process's event loop.
The statement compares each event's routing version with its workspace's itself, so an event
routed at a configuration that changed since is left out, with its deliveries, as the
transaction's version read did.

``UPDATE … FROM`` applies at most one joined row to each target row, so a batch of results that
holds two for one delivery (a lease that ran out and the delivery claimed again by the same
worker) is written row by row instead, which applies both in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from hookline.domain.models import AttemptOutcome
from hookline.store import rows
from hookline.store.queue import finish_params
from hookline.store.tx import Tx

_TEXT, _INT2, _INT4, _FLOAT8 = "text", "int2", "int4", "float8"
#: The element type of each column written through arrays. Kept here, not derived from
#: :mod:`hookline.store.tables`, so that a worker never imports SQLAlchemy; a unit test holds
#: the two to agree.
COLUMN_TYPES: dict[str, dict[str, str]] = {
    "events": {
        "id": _TEXT, "workspace_id": _TEXT, "type": _TEXT, "body": _TEXT,
        "idempotency_key": _TEXT, "created_at": _FLOAT8, "channels": _TEXT, "tags": _TEXT,
        "traceparent": _TEXT,
    },
    "deliveries": {
        "id": _TEXT, "workspace_id": _TEXT, "event_id": _TEXT, "webhook_id": _TEXT,
        "status": _TEXT, "ordered": _INT2, "attempts": _INT4, "retry_base": _INT4,
        "next_attempt_at": _FLOAT8, "lease_until": _FLOAT8, "last_status": _INT4,
        "last_error": _TEXT, "created_at": _FLOAT8, "updated_at": _FLOAT8,
    },
    "attempts": {
        "id": _TEXT, "workspace_id": _TEXT, "delivery_id": _TEXT, "webhook_id": _TEXT,
        "number": _INT4, "started_at": _FLOAT8, "duration_ms": _FLOAT8,
        "request_method": _TEXT, "request_url": _TEXT, "request_headers": _TEXT,
        "request_body": _TEXT, "response_status": _INT4, "response_headers": _TEXT,
        "response_body": _TEXT, "error_class": _TEXT, "error_message": _TEXT,
        "request_body_is_event": _INT2,
    },
    "event_keys": {"workspace_id": _TEXT, "idempotency_key": _TEXT, "event_id": _TEXT},
}  # fmt: skip


@cache
def unnest(
    table: str, columns: tuple[str, ...], alias: str, *, first: int = 1, version: bool = False
) -> str:
    """``unnest($1::t1[], …) AS alias(columns)``: one array parameter per column, in order,
    numbered from ``first``; with ``version``, one more, ``config_version`` (int8)."""
    types = COLUMN_TYPES[table]
    arrays = [f"${i}::{types[column]}[]" for i, column in enumerate(columns, first)]
    names = list(columns)
    if version:
        arrays.append(f"${first + len(columns)}::int8[]")
        names.append("config_version")
    return f"unnest({', '.join(arrays)}) AS {alias}({', '.join(names)})"


@cache
def insert_sql(table: str, columns: tuple[str, ...], suffix: str) -> str:
    names = ", ".join(columns)
    return (
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {unnest(table, columns, 'v')}{suffix}"
    )


def arrays(values: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Rows to columns: the parameters of a statement over :func:`unnest`."""
    return [list(column) for column in zip(*values, strict=True)]


def columns(values: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """:func:`arrays` of rows ``width`` values wide, no rows included (``width`` empty lists)."""
    return arrays(values) if values else [[] for _ in range(width)]


_INSERT_ATTEMPTS = (
    f"INSERT INTO attempts ({', '.join(rows.ATTEMPT_COLUMNS)})"
    f" SELECT a.* FROM {unnest('attempts', rows.ATTEMPT_COLUMNS, 'a')}"
    # Not for a delivery deleted (with its webhook) while the attempt was in flight.
    " WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = a.delivery_id"
    f" AND d.id BETWEEN ${len(rows.ATTEMPT_COLUMNS) + 1} AND ${len(rows.ATTEMPT_COLUMNS) + 2})"
)
#: ``finish_params``' values, in its order.
_FINISH_DELIVERIES = (
    "UPDATE deliveries d SET status = f.status, attempts = d.attempts + 1,"
    " next_attempt_at = f.next_attempt_at, lease_until = 0, leased_by = NULL,"
    " last_status = f.last_status, last_error = f.last_error, updated_at = f.updated_at FROM "
    + unnest(
        "deliveries",
        ("id", "status", "next_attempt_at", "last_status", "last_error", "updated_at"),
        "f",
    )
    # A late result from an expired lease must not undo a success recorded since.
    + " WHERE d.id = f.id AND d.status <> 'succeeded' AND d.id BETWEEN $7 AND $8"
)
#: Both statements also bound ``deliveries`` by the batch's lowest and highest delivery id:
#: planned for those values, they read only the time partitions that can hold the batch
#: (docs/operations.md, "Partitions and retention"), not every partition of the retention
#: period.


_EVENT_ROW = rows.TRACED_EVENT_COLUMNS
_WORKSPACE = _EVENT_ROW.index("workspace_id")
#: A row's routing version (``v.config_version``, NULL when unchecked) is still its
#: workspace's. The versions of the workspaces in ``$1`` are read once per statement and
#: hashed, not probed per row: with a probe per row the generic plan, which assumes a hundred
#: rows, cost more than the custom ones, and PostgreSQL planned the statement afresh at every
#: execution; this way it plans it once per connection.
_CURRENT = (
    "(v.config_version IS NULL OR (v.workspace_id, v.config_version) IN"
    " (SELECT w.id, w.config_version FROM workspaces w WHERE w.id = ANY($1::text[])))"
)
#: Events (``TRACED_EVENT_COLUMNS``, then each one's routing version) and deliveries (the same
#: with their event's routing version) whose version is current, in one statement that returns
#: the ids of the events stored. Both filters read the statement's one snapshot, so a delivery
#: is stored exactly when its event is.
_PUBLISH = (
    f"WITH e AS (INSERT INTO events ({', '.join(_EVENT_ROW)})"
    f" SELECT {', '.join(f'v.{c}' for c in _EVENT_ROW)}"
    f" FROM {unnest('events', _EVENT_ROW, 'v', first=2, version=True)} WHERE {_CURRENT}"
    " RETURNING id),"
    f" d AS (INSERT INTO deliveries ({', '.join(rows.DELIVERY_COLUMNS)})"
    f" SELECT {', '.join(f'v.{c}' for c in rows.DELIVERY_COLUMNS)} FROM "
    + unnest("deliveries", rows.DELIVERY_COLUMNS, "v", first=len(_EVENT_ROW) + 3, version=True)
    + f" WHERE {_CURRENT})"
    " SELECT id FROM e"
)


async def publish(
    tx: Tx, events: Sequence[Sequence[Any]], deliveries: Sequence[Sequence[Any]]
) -> set[str]:
    """Store events (``TRACED_EVENT_COLUMNS``' values, then the routing version, None when
    unchecked) whose version is still their workspace's, and the deliveries of those
    (``DELIVERY_COLUMNS``' values, then their event's routing version); the ids of the events
    stored."""
    checked = {event[_WORKSPACE] for event in events if event[-1] is not None}
    found = await tx.fetch(
        _PUBLISH,
        sorted(checked),
        *columns(events, len(_EVENT_ROW) + 1),
        *columns(deliveries, len(rows.DELIVERY_COLUMNS) + 1),
    )
    return {row["id"] for row in found}


def one_per_delivery(outcomes: Sequence[AttemptOutcome]) -> bool:
    """Whether no delivery has two results in the batch (see the module docstring)."""
    return len({o.attempt.delivery_id for o in outcomes}) == len(outcomes)


async def store_results(tx: Tx, outcomes: Sequence[AttemptOutcome], now: float) -> None:
    """Insert the attempts and finish their deliveries; one result per delivery only."""
    ids = [o.attempt.delivery_id for o in outcomes]
    span = (min(ids), max(ids))
    attempts = arrays([rows.attempt_params(o.attempt) for o in outcomes])
    await tx.execute(_INSERT_ATTEMPTS, *attempts, *span)
    await tx.execute(_FINISH_DELIVERIES, *arrays([finish_params(o, now) for o in outcomes]), *span)
