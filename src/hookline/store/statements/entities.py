"""Entity state's statements: a versioned write names the version (``updated_at``) it read."""

from __future__ import annotations

from typing import NamedTuple


class EntitySql(NamedTuple):
    entity: str = "SELECT * FROM entities WHERE workspace_id = $1 AND path = $2"
    #: The same insert as a publish's: an entity event is published like any event.
    insert_event: str = (
        "INSERT INTO events (id, workspace_id, type, body, idempotency_key, created_at,"
        " channels, tags) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    create: str = (
        "INSERT INTO entities (workspace_id, path, value, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id, path) DO NOTHING RETURNING path"
    )
    update: str = (
        "UPDATE entities SET value = $3, updated_at = $4"
        " WHERE workspace_id = $1 AND path = $2 AND updated_at = $5 RETURNING path"
    )
    delete: str = (
        "DELETE FROM entities WHERE workspace_id = $1 AND path = $2 AND updated_at = $3"
        " RETURNING path"
    )
