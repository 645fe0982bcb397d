"""The customer portal's statements: its links, the workspaces' themes, the audit log."""

from __future__ import annotations

from typing import NamedTuple


class PortalSql(NamedTuple):
    create_link: str = (
        "INSERT INTO portal_links (id, workspace_id, token_hash, created_at, expires_at,"
        " read_only, event_types, theme, user_name, created_by, feature_flags,"
        " destination_kinds)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    )
    link_by_hash: str = "SELECT * FROM portal_links WHERE token_hash = $1 AND expires_at > $2"
    link_by_id: str = (
        "SELECT * FROM portal_links WHERE id = $1 AND workspace_id = $2 AND expires_at > $3"
    )
    live_links: str = (
        "SELECT * FROM portal_links WHERE workspace_id = $1 AND expires_at > $2 ORDER BY id"
    )
    revoke_links: str = "DELETE FROM portal_links WHERE workspace_id = $1"
    purge_links: str = "DELETE FROM portal_links WHERE expires_at <= $1"
    get_theme: str = "SELECT theme FROM portal_themes WHERE workspace_id = $1"
    put_theme: str = (
        "INSERT INTO portal_themes (workspace_id, theme, updated_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (workspace_id) DO UPDATE SET theme = excluded.theme,"
        " updated_at = excluded.updated_at"
    )
    add_audit: str = (
        "INSERT INTO audit_log (id, workspace_id, at, actor, link_id, action, target, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    audit_newest: str = "SELECT * FROM audit_log WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2"
    audit_before: str = (
        "SELECT * FROM audit_log WHERE workspace_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
    )
