"""The statements that delete a workspace: its queue and history in batches, then everything
else it owns, the workspace row last.

Each ``DELETE`` of ``RemovalSql`` whose name starts with ``clear_`` runs in the final
transaction; together they name every table that holds a ``workspace_id`` (a contract test
holds them to the schema). The shared event-type catalog is stored under workspace ``''``,
which no workspace has as its id: it is never touched.
"""

from __future__ import annotations

from typing import NamedTuple

_OWNED = "WHERE workspace_id = $1"


class RemovalSql(NamedTuple):
    pending: str = f"SELECT COUNT(*) AS n FROM deliveries {_OWNED} AND status = 'pending'"
    # A batch of the workspace's deliveries, deleted with their attempts and window links.
    delivery_batch: str = f"SELECT id FROM deliveries {_OWNED} LIMIT $2"
    attempts_of: str = "DELETE FROM attempts WHERE delivery_id {in $1}"
    links_of: str = "DELETE FROM delivery_events WHERE delivery_id {in $1}"
    deliveries: str = "DELETE FROM deliveries WHERE id {in $1}"
    # A batch of its events, once no delivery of them is left.
    event_batch: str = f"SELECT id FROM events {_OWNED} LIMIT $2"
    events: str = "DELETE FROM events WHERE id {in $1}"
    # The final transaction, in this order (links before the deliveries they are found by).
    clear_links: str = (
        f"DELETE FROM delivery_events WHERE delivery_id IN (SELECT id FROM deliveries {_OWNED})"
    )
    clear_attempts: str = f"DELETE FROM attempts {_OWNED}"
    clear_deliveries: str = f"DELETE FROM deliveries {_OWNED}"
    clear_events: str = f"DELETE FROM events {_OWNED}"
    clear_event_keys: str = f"DELETE FROM event_keys {_OWNED}"
    clear_webhooks: str = f"DELETE FROM webhooks {_OWNED}"
    clear_flows: str = f"DELETE FROM flows {_OWNED}"
    clear_event_types: str = f"DELETE FROM event_types {_OWNED}"
    clear_entities: str = f"DELETE FROM entities {_OWNED}"
    clear_bin_requests: str = f"DELETE FROM bin_requests {_OWNED}"
    clear_bins: str = f"DELETE FROM bins {_OWNED}"
    clear_bin_usage: str = f"DELETE FROM bin_usage {_OWNED}"
    clear_api_keys: str = f"DELETE FROM api_keys {_OWNED}"
    clear_portal_links: str = f"DELETE FROM portal_links {_OWNED}"
    clear_portal_themes: str = f"DELETE FROM portal_themes {_OWNED}"
    clear_audit_log: str = f"DELETE FROM audit_log {_OWNED}"
    #: Last: whether the workspace existed is this statement's row count.
    workspace: str = "DELETE FROM workspaces WHERE id = $1"
