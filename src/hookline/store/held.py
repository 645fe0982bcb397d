"""Deliveries held while their webhook is disabled (pure, plus the SQL that moves them).

A disabled webhook still gets a delivery for every event it subscribes to; the delivery stays
``pending`` and waits. It waits by having its due time moved ``HOLD`` seconds (about 317 years)
into the future: every claim reads the due index (``ix_deliveries_due``) from its oldest entry
up to now, and held deliveries, the oldest of the queue, would otherwise lie at its head and be
read past by every claim for as long as their webhook stays disabled. Moved, they are beyond
the claim's range, so a disabled webhook's backlog costs the claim nothing, without a schema
change. Enabling the webhook moves them back: they keep their original due times, so they go
out in due order (FIFO webhooks in id order, as always) under the usual per-webhook caps and
rate limit, having used no attempt while held.

A delivery counts as held when its stored due time is at least ``HOLD``; no real due time comes
near it (it is the year 2286). Reads give back the original time (:func:`due_of`).

The claim still leaves out every disabled webhook's deliveries by id: a delivery can reach the
queue unheld for a webhook disabled a moment before (a retry of a request in flight when it was
disabled, a publish routed just before), and it must wait too.
"""

from __future__ import annotations

#: How far a held delivery's due time is moved (seconds; see the module's text).
HOLD = 10_000_000_000.0
#: The last error of a held delivery that expired (see ``Store.expire_held``).
EXPIRED = "expired while the webhook was disabled"

#: ``HOLD`` in SQL, typed: added to a parameter, a bare literal would make PostgreSQL deduce
#: ``numeric`` for the parameter.
HOLD_SQL_VALUE = f"CAST({HOLD} AS DOUBLE PRECISION)"
#: Holds a disabled webhook's pending deliveries ($1: the webhook).
HOLD_SQL = (
    f"UPDATE deliveries SET next_attempt_at = next_attempt_at + {HOLD}"
    f" WHERE webhook_id = $1 AND status = 'pending' AND next_attempt_at < {HOLD}"
)
#: Lets an enabled webhook's held deliveries go, at their original due times ($1: the webhook).
RELEASE_SQL = (
    f"UPDATE deliveries SET next_attempt_at = next_attempt_at - {HOLD}"
    f" WHERE webhook_id = $1 AND status = 'pending' AND next_attempt_at >= {HOLD}"
)


def held(due: float) -> float:
    """The stored due time of a delivery held until its webhook is enabled."""
    return due + HOLD if due < HOLD else due


def is_held(stored: float) -> bool:
    return stored >= HOLD


def due_of(stored: float) -> float:
    """A delivery's due time as it was before it was held."""
    return stored - HOLD if stored >= HOLD else stored
