"""Publishing's statements: events stored, their webhooks checked, aggregation windows joined."""

from __future__ import annotations

from typing import NamedTuple

from hookline.store.held import HOLD, HOLD_SQL_VALUE


class PublishingSql(NamedTuple):
    #: The config versions of the workspaces being published to.
    versions: str = "SELECT id, config_version FROM workspaces WHERE id {in $1}"
    #: Of the keyed events being published, those that took their key (the others repeat one).
    claimed: str = "SELECT event_id FROM event_keys WHERE event_id {in $1}"
    #: The events holding keys of a workspace.
    firsts: str = (
        "SELECT e.* FROM event_keys k JOIN events e ON e.id = k.event_id"
        " WHERE k.workspace_id = $1 AND k.idempotency_key {in $2}"
    )
    #: The deliveries an event queued, directly and through the windows it joined.
    queued: str = (
        "SELECT d.*, d.event_id AS queued_for FROM deliveries d WHERE d.event_id {in $1}"
        " UNION ALL SELECT d.*, de.event_id AS queued_for FROM delivery_events de"
        " JOIN deliveries d ON d.id = de.delivery_id WHERE de.event_id {in $1}"
    )


class WindowSql(NamedTuple):
    #: The webhooks of $1 (windows: locked) and the disabled ones of $2 (locked), in id order.
    lock_webhooks: str = (
        "SELECT id, enabled FROM webhooks WHERE id {in $1}"
        " OR (id {in $2} AND enabled = 0) ORDER BY id{row_lock}"
    )
    fifo_configs: str = "SELECT id, config FROM webhooks WHERE id {in $1}"
    # A held window (its webhook disabled) opens and closes at the same times as any: its due
    # time is compared, and set when it fills up, as it would be unheld (see store.held).
    open_window: str = (
        "SELECT * FROM deliveries WHERE webhook_id = $1 AND status = 'pending'"
        " AND batch_size > 0 AND attempts = 0 AND lease_until < $2"
        f" AND (next_attempt_at > $2 AND next_attempt_at < {HOLD}"
        f" OR next_attempt_at > $2 + {HOLD_SQL_VALUE})"
        " ORDER BY id DESC LIMIT 1"
    )
    join_window: str = (
        "UPDATE deliveries SET batch_size = batch_size + 1, updated_at = $2,"
        " next_attempt_at = CASE WHEN batch_size + 1 < $3 THEN next_attempt_at"
        f" WHEN next_attempt_at >= {HOLD} THEN $2 + {HOLD_SQL_VALUE} ELSE $2 END"
        " WHERE id = $1"
    )
    insert_window: str = (
        "INSERT INTO deliveries (id, workspace_id, event_id, webhook_id, status, ordered,"
        " attempts, retry_base, next_attempt_at, lease_until, batch_size, created_at,"
        " updated_at) VALUES ($1, $2, $3, $4, 'pending', 0, 0, 0, $5, 0, 1, $6, $6)"
    )
    link_event: str = (
        "INSERT INTO delivery_events (delivery_id, position, event_id) VALUES ($1, $2, $3)"
    )
    window_events: str = (
        "SELECT de.delivery_id AS delivery_id, e.* FROM delivery_events de"
        " JOIN events e ON e.id = de.event_id WHERE de.delivery_id {in $1}"
        " ORDER BY de.delivery_id, de.position"
    )
