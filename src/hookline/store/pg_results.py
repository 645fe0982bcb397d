"""Attempt results on PostgreSQL as two set-based statements per batch.

``executemany`` runs its statement once per row: each execution is a bind, a portal and an
executor start-up in the server, which for a batch of 200 results cost about as much CPU as the
writes themselves. Here each column travels as one array and ``unnest`` turns the arrays back
into rows: one ``INSERT`` of every attempt and one ``UPDATE`` of every delivery.

``UPDATE … FROM`` applies at most one joined row to each target row, so a batch holding two
results for one delivery (a lease that ran out and the delivery claimed again by the same
worker) goes through the row-by-row path instead, which applies both in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hookline.models import AttemptOutcome
from hookline.store import rows
from hookline.store.queue import finish_params
from hookline.store.tx import Tx

_ATTEMPT_COLUMNS = (
    "id, workspace_id, delivery_id, webhook_id, number, started_at, duration_ms,"
    " request_method, request_url, request_headers, request_body, response_status,"
    " response_headers, response_body, error_class, error_message, request_body_is_event"
)
#: The array type of each of ``rows.attempt_params``' values, in its order.
_ATTEMPT_TYPES = (
    "text", "text", "text", "text", "int4", "float8", "float8", "text", "text", "text", "text",
    "int4", "text", "text", "text", "text", "int2",
)  # fmt: skip
_INSERT_ATTEMPTS = (
    f"INSERT INTO attempts ({_ATTEMPT_COLUMNS}) SELECT a.* FROM unnest("
    + ", ".join(f"${i}::{t}[]" for i, t in enumerate(_ATTEMPT_TYPES, 1))
    + f") AS a({_ATTEMPT_COLUMNS})"
    # Not for a delivery deleted (with its webhook) while the attempt was in flight.
    " WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = a.delivery_id)"
)
#: ``finish_params``' values as arrays, in its order.
_FINISH_DELIVERIES = (
    "UPDATE deliveries d SET status = f.status, attempts = d.attempts + 1,"
    " next_attempt_at = f.next_attempt_at, lease_until = 0, leased_by = NULL,"
    " last_status = f.last_status, last_error = f.last_error, updated_at = f.now"
    " FROM unnest($1::text[], $2::text[], $3::float8[], $4::int4[], $5::text[], $6::float8[])"
    " AS f(id, status, next_attempt_at, last_status, last_error, now)"
    # A late result from an expired lease must not undo a success recorded since.
    " WHERE d.id = f.id AND d.status <> 'succeeded'"
)


def one_per_delivery(outcomes: Sequence[AttemptOutcome]) -> bool:
    """Whether no delivery has two results in the batch (see the module docstring)."""
    return len({o.attempt.delivery_id for o in outcomes}) == len(outcomes)


async def store_results(tx: Tx, outcomes: Sequence[AttemptOutcome], now: float) -> None:
    """Insert the attempts and finish their deliveries; one result per delivery only."""
    await tx.execute(
        _INSERT_ATTEMPTS, *_columns([rows.attempt_params(o.attempt) for o in outcomes])
    )
    await tx.execute(_FINISH_DELIVERIES, *_columns([finish_params(o, now) for o in outcomes]))


def _columns(values: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*values, strict=True)]
