"""Workspaces and their records outside routing, in SQL: the workspaces, their API keys and
event-type catalog, the store's meta entries and the dashboard's revoked sessions."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from hookline.domain.models import ApiKey, EventType, Workspace
from hookline.store import rows
from hookline.store.rows import dumps
from hookline.store.tx import SqlPrimitives


class SqlWorkspaceOps(SqlPrimitives):
    @abstractmethod
    async def _write(self, sql: str, *args: Any, conflict: str | None = None) -> int:
        """One statement in its own transaction: its row count; a unique violation becomes
        ``Conflict(conflict)`` when ``conflict`` is given."""

    # -- meta, workspaces, keys --------------------------------------------------------------
    async def get_meta(self, key: str) -> str | None:
        row = await self._fetchrow("SELECT value FROM meta WHERE key = $1", key)
        return None if row is None else str(row["value"])

    async def set_meta_if_absent(self, key: str, value: str) -> bool:
        sql = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING"
        return await self._write(sql, key, value) == 1

    async def create_workspace(self, workspace: Workspace) -> None:
        sql = "INSERT INTO workspaces (id, name, config_version, created_at) VALUES ($1, $2, 0, $3)"
        await self._write(sql, workspace.id, workspace.name, workspace.created_at)

    async def get_workspace(self, workspace_id: str) -> Workspace | None:
        row = await self._fetchrow("SELECT * FROM workspaces WHERE id = $1", workspace_id)
        return None if row is None else rows.workspace(row)

    async def list_workspaces(self) -> list[Workspace]:
        return [
            rows.workspace(r) for r in await self._fetch("SELECT * FROM workspaces ORDER BY id")
        ]

    async def create_api_key(self, key: ApiKey) -> None:
        sql = (
            "INSERT INTO api_keys (id, workspace_id, name, prefix, key_hash, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6)"
        )
        await self._write(
            sql, key.id, key.workspace_id, key.name, key.prefix, key.key_hash, key.created_at
        )

    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        sql = "SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
        row = await self._fetchrow(sql, key_hash)
        return None if row is None else rows.api_key(row)

    async def list_api_keys(self, workspace_id: str) -> list[ApiKey]:
        sql = "SELECT * FROM api_keys WHERE workspace_id = $1 ORDER BY id"
        return [rows.api_key(r) for r in await self._fetch(sql, workspace_id)]

    async def revoke_api_key(self, workspace_id: str, key_id: str, now: float) -> bool:
        sql = (
            "UPDATE api_keys SET revoked_at = $3 WHERE workspace_id = $1 AND id = $2"
            " AND revoked_at IS NULL"
        )
        return await self._write(sql, workspace_id, key_id, now) == 1

    # -- dashboard sign-outs ------------------------------------------------------------------
    async def revoke_session(self, sid: str, expires_at: float) -> None:
        sql = (
            "INSERT INTO revoked_sessions (sid, expires_at) VALUES ($1, $2)"
            " ON CONFLICT (sid) DO NOTHING"
        )
        await self._write(sql, sid, expires_at)

    async def session_revoked(self, sid: str) -> bool:
        row = await self._fetchrow("SELECT 1 AS found FROM revoked_sessions WHERE sid = $1", sid)
        return row is not None

    async def purge_revoked_sessions(self, now: float) -> int:
        return await self._write("DELETE FROM revoked_sessions WHERE expires_at <= $1", now)

    # -- catalog ------------------------------------------------------------------------------
    async def save_event_type(self, event_type: EventType, *, create: bool) -> None:
        et = event_type
        schema = None if et.schema is None else dumps(et.schema)
        example = None if et.example is None else dumps(et.example)
        if create:
            sql = (
                "INSERT INTO event_types (id, workspace_id, name, description, schema, example,"
                " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            )
            args = (et.id, et.workspace_id, et.name, et.description, schema, example)
            await self._write(
                sql, *args, et.created_at, et.updated_at, conflict=f"event type {et.name!r} exists"
            )
            return
        sql = (
            "UPDATE event_types SET description = $3, schema = $4, example = $5, updated_at = $6"
            " WHERE workspace_id = $1 AND id = $2"
        )
        await self._write(
            sql, et.workspace_id, et.id, et.description, schema, example, et.updated_at
        )

    async def get_event_type(self, workspace_id: str, name: str) -> EventType | None:
        sql = "SELECT * FROM event_types WHERE workspace_id = $1 AND name = $2"
        row = await self._fetchrow(sql, workspace_id, name)
        return None if row is None else rows.event_type(row)

    async def list_event_types(self, workspace_id: str) -> list[EventType]:
        sql = "SELECT * FROM event_types WHERE workspace_id = $1 ORDER BY name"
        return [rows.event_type(r) for r in await self._fetch(sql, workspace_id)]

    async def delete_event_type(self, workspace_id: str, name: str) -> bool:
        sql = "DELETE FROM event_types WHERE workspace_id = $1 AND name = $2"
        return await self._write(sql, workspace_id, name) == 1
