"""History's statements: events, deliveries and attempts read back, sent again, and purged."""

from __future__ import annotations

from typing import NamedTuple

from hookline.store.statements.listing import Listing

EVENTS = Listing(
    "SELECT * FROM events WHERE workspace_id = $1", 1, ("id < $?", "type = $?"), " ORDER BY id DESC"
)
DELIVERIES = Listing(
    "SELECT * FROM deliveries WHERE workspace_id = $1",
    1,
    (
        "id < $?",
        "webhook_id = $?",
        "event_id = $?",
        "status = $?",
        "created_at >= $?",
        "created_at < $?",
    ),
    " ORDER BY id DESC",
)


class HistorySql(NamedTuple):
    event: str = "SELECT * FROM events WHERE workspace_id = $1 AND id = $2"
    delivery: str = "SELECT * FROM deliveries WHERE workspace_id = $1 AND id = $2"
    # An attempt that sent its event's body unchanged keeps no copy: the event has it (and
    # outlives the attempt: events are purged only once no delivery refers to them).
    attempts: str = (
        "SELECT a.*, CASE WHEN a.request_body_is_event = 1 THEN e.body END AS event_body"
        " FROM attempts a LEFT JOIN deliveries d ON d.id = a.delivery_id"
        " LEFT JOIN events e ON e.id = d.event_id"
        " WHERE a.workspace_id = $1 AND a.delivery_id = $2 ORDER BY a.number"
    )
    delivery_webhook: str = "SELECT webhook_id FROM deliveries WHERE workspace_id = $1 AND id = $2"
    #: Read under the row lock that orders sending again with enabling the webhook.
    webhook_enabled: str = "SELECT enabled FROM webhooks WHERE id = $1{row_lock}"
    retry: str = (
        "UPDATE deliveries SET status = 'pending', retry_base = attempts,"
        " next_attempt_at = $4, lease_until = 0, updated_at = $3"
        " WHERE workspace_id = $1 AND id = $2 AND lease_until < $3"
    )
    replay: str = (
        "UPDATE deliveries SET status = 'pending', retry_base = attempts,"
        " next_attempt_at = $7, lease_until = 0, updated_at = $5"
        " WHERE workspace_id = $1 AND webhook_id = $2 AND created_at >= $3"
        " AND created_at < $4 AND lease_until < $5 AND status {in $6}"
    )
    # Id ranges ride the primary keys (ids sort by time), one short transaction per batch.
    finished: str = "SELECT id FROM deliveries WHERE id < $1 AND status <> 'pending' LIMIT $2"
    delete_attempts: str = "DELETE FROM attempts WHERE delivery_id {in $1}"
    delete_links: str = "DELETE FROM delivery_events WHERE delivery_id {in $1}"
    delete_deliveries: str = "DELETE FROM deliveries WHERE id {in $1}"
    unneeded_events: str = (
        "SELECT id FROM events e WHERE id < $1"
        " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)"
        " AND NOT EXISTS (SELECT 1 FROM delivery_events de WHERE de.event_id = e.id)"
        " LIMIT $2"
    )
    delete_event_keys: str = "DELETE FROM event_keys WHERE event_id {in $1}"
    delete_events: str = "DELETE FROM events WHERE id {in $1}"
