"""Configuration's statements: meta entries, workspaces, API keys, revoked sessions, flows,
webhooks (enabled or not, with their held deliveries), the config version."""

from __future__ import annotations

from typing import NamedTuple

from hookline.store import held, rows
from hookline.store.statements.listing import Listing

_WEBHOOK = f"SELECT {rows.WEBHOOK_COLUMNS} FROM webhooks"

WEBHOOKS = Listing(
    f"{_WEBHOOK} WHERE workspace_id = $1",
    1,
    ("id > $?", "enabled = $?", "flow_id = $?", "LOWER(name) LIKE $? ESCAPE '\\'"),
    " ORDER BY id",
)


class WorkspaceSql(NamedTuple):
    get_meta: str = "SELECT value FROM meta WHERE key = $1"
    set_meta: str = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING"
    create_workspace: str = (
        "INSERT INTO workspaces (id, name, config_version, created_at, uid, metadata,"
        " throttle_rate, strict_event_types, updated_at)"
        " VALUES ($1, $2, 0, $3, $4, $5, $6, $7, $8)"
    )
    update_workspace: str = (
        "UPDATE workspaces SET name = $2, uid = $3, metadata = $4, throttle_rate = $5,"
        " strict_event_types = $6, updated_at = $7, config_version = config_version + 1"
        " WHERE id = $1"
    )
    workspace: str = "SELECT * FROM workspaces WHERE id = $1"
    workspace_by_uid: str = "SELECT * FROM workspaces WHERE uid = $1"
    workspaces: str = "SELECT * FROM workspaces ORDER BY id"
    workspaces_after: str = "SELECT * FROM workspaces WHERE id > $1 ORDER BY id LIMIT $2"
    workspaces_before: str = "SELECT * FROM workspaces WHERE id < $1 ORDER BY id DESC LIMIT $2"
    throttle_rates: str = (
        "SELECT id, throttle_rate FROM workspaces"
        " WHERE throttle_rate IS NOT NULL AND throttle_rate > 0"
    )
    create_api_key: str = (
        "INSERT INTO api_keys (id, workspace_id, name, prefix, key_hash, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
    )
    api_key: str = "SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
    api_keys: str = "SELECT * FROM api_keys WHERE workspace_id = $1 ORDER BY id"
    revoke_api_key: str = (
        "UPDATE api_keys SET revoked_at = $3 WHERE workspace_id = $1 AND id = $2"
        " AND revoked_at IS NULL"
    )
    revoke_session: str = (
        "INSERT INTO revoked_sessions (sid, expires_at) VALUES ($1, $2)"
        " ON CONFLICT (sid) DO NOTHING"
    )
    session_revoked: str = "SELECT 1 AS found FROM revoked_sessions WHERE sid = $1"
    purge_sessions: str = "DELETE FROM revoked_sessions WHERE expires_at <= $1"


class RoutingSql(NamedTuple):
    create_flow: str = (
        "INSERT INTO flows (id, workspace_id, name, description, config, created_at,"
        " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    update_flow: str = (
        "UPDATE flows SET name = $3, description = $4, config = $5, updated_at = $6"
        " WHERE workspace_id = $1 AND id = $2"
    )
    flow: str = "SELECT * FROM flows WHERE workspace_id = $1 AND id = $2"
    flows: str = "SELECT * FROM flows WHERE workspace_id = $1 ORDER BY name"
    all_flows: str = "SELECT * FROM flows WHERE workspace_id = $1"
    delete_flow: str = "DELETE FROM flows WHERE workspace_id = $1 AND id = $2"
    flow_members: str = "SELECT id, config FROM webhooks WHERE workspace_id = $1 AND flow_id = $2"
    detach: str = "UPDATE webhooks SET flow_id = NULL, config = $2 WHERE id = $1"
    count_members: str = (
        "SELECT COUNT(*) AS n FROM webhooks WHERE workspace_id = $1 AND flow_id = $2"
    )
    create_webhook: str = (
        "INSERT INTO webhooks (id, workspace_id, name, flow_id, enabled, config,"
        " secrets, disabled_reason, uid, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    )
    update_webhook: str = (
        "UPDATE webhooks SET name = $3, flow_id = $4, enabled = $5, config = $6,"
        " secrets = $7, disabled_reason = $8, uid = $9, updated_at = $10"
        " WHERE workspace_id = $1 AND id = $2"
    )
    webhook: str = f"{_WEBHOOK} WHERE workspace_id = $1 AND id = $2"
    webhook_by_uid: str = f"{_WEBHOOK} WHERE workspace_id = $1 AND uid = $2"
    webhooks_after: str = f"{_WEBHOOK} WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    webhooks_before: str = (
        f"{_WEBHOOK} WHERE workspace_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
    )
    workspace_webhooks: str = f"{_WEBHOOK} WHERE workspace_id = $1"
    delete_webhook: str = "DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2"
    delete_webhook_attempts: str = "DELETE FROM attempts WHERE webhook_id = $1"
    delete_webhook_links: str = (
        "DELETE FROM delivery_events WHERE delivery_id IN"
        " (SELECT id FROM deliveries WHERE webhook_id = $1)"
    )
    delete_webhook_deliveries: str = "DELETE FROM deliveries WHERE webhook_id = $1"
    #: A workspace's config version, bumped by every webhook or flow change (see routing).
    config_version: str = "SELECT config_version FROM workspaces WHERE id = $1"
    bump_version: str = "UPDATE workspaces SET config_version = config_version + 1 WHERE id = $1"
    webhook_config: str = "SELECT workspace_id, config FROM webhooks WHERE id = $1"
    set_enabled: str = (
        "UPDATE webhooks SET enabled = $2, config = $3, disabled_reason = $4,"
        " updated_at = $5 WHERE id = $1"
    )
    hold: str = held.HOLD_SQL
    release_held: str = held.RELEASE_SQL
    disabled: str = f"{_WEBHOOK} WHERE enabled = 0 ORDER BY id"
    last_success: str = (
        "SELECT MAX(updated_at) AS t FROM deliveries WHERE webhook_id = $1 AND status = 'succeeded'"
    )
    first_failure: str = (
        "SELECT MIN(created_at) AS t FROM deliveries WHERE webhook_id = $1"
        " AND created_at > $2 AND status IN ('failed', 'pending') AND attempts > 0"
    )
    with_failures: str = (
        f"{_WEBHOOK} w WHERE enabled = 1 AND EXISTS ("
        " SELECT 1 FROM deliveries d WHERE d.webhook_id = w.id"
        " AND d.status IN ('failed', 'pending') AND d.attempts > 0)"
    )
