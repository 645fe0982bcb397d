"""The customer portal's storage: links found by their token's hash while unexpired, revoked
all at once per workspace (deleted: a revoked link is indistinguishable from one that never
existed), the workspaces' default themes, and the append-only audit log read newest first."""

from __future__ import annotations

from typing import Any

from hookline.domain.models import AuditEntry, PortalLink
from hookline.store import rows
from hookline.store.dialect import Dialect
from hookline.store.rows import dumps, loads_or_none
from hookline.store.statements.portal import PortalSql


class PortalRepository:
    """Portal links, themes and the audit log (see the module's text)."""

    def __init__(self, dialect: Dialect) -> None:
        self._d = dialect
        self._sql = dialect.prepare(PortalSql())

    async def create_link(self, link: PortalLink) -> None:
        k = link
        types = None if k.event_types is None else dumps(list(k.event_types))
        theme = None if k.theme is None else dumps(k.theme)
        flags = dumps(list(k.feature_flags)) if k.feature_flags else None
        kinds = dumps(list(k.destination_kinds)) if k.destination_kinds else None
        await self._d.write(
            self._sql.create_link, k.id, k.workspace_id, k.token_hash, k.created_at,
            k.expires_at, int(k.read_only), types, theme, k.user_name, k.created_by, flags,
            kinds,
        )  # fmt: skip

    async def find_link(self, token_hash: str, now: float) -> PortalLink | None:
        """The unexpired, unrevoked link with this token hash (one unique-index lookup)."""
        row = await self._d.fetchrow(self._sql.link_by_hash, token_hash, now)
        return None if row is None else rows.portal_link(row)

    async def get_link(self, workspace_id: str, link_id: str, now: float) -> PortalLink | None:
        """The link, if it is still live and of this workspace (a primary-key lookup)."""
        row = await self._d.fetchrow(self._sql.link_by_id, link_id, workspace_id, now)
        return None if row is None else rows.portal_link(row)

    async def live_links(self, workspace_id: str, now: float) -> list[PortalLink]:
        return [
            rows.portal_link(r)
            for r in await self._d.fetch(self._sql.live_links, workspace_id, now)
        ]

    async def revoke_links(self, workspace_id: str) -> int:
        """Revoke every link of the workspace (and so every portal session opened with one)."""
        return await self._d.write(self._sql.revoke_links, workspace_id)

    async def purge_links(self, now: float) -> int:
        """Forget the links that have expired."""
        return await self._d.write(self._sql.purge_links, now)

    async def get_theme(self, workspace_id: str) -> dict[str, Any] | None:
        row = await self._d.fetchrow(self._sql.get_theme, workspace_id)
        return None if row is None else dict(loads_or_none(row["theme"]) or {})

    async def put_theme(self, workspace_id: str, theme: dict[str, Any], now: float) -> None:
        await self._d.write(self._sql.put_theme, workspace_id, dumps(theme), now)

    async def add_audit(self, entry: AuditEntry) -> None:
        e = entry
        detail = None if e.detail is None else dumps(e.detail)
        await self._d.write(
            self._sql.add_audit, e.id, e.workspace_id, e.at, e.actor, e.link_id, e.action,
            e.target, detail,
        )  # fmt: skip

    async def audit_page(
        self, workspace_id: str, limit: int, before: str | None = None
    ) -> list[AuditEntry]:
        """Up to ``limit`` entries older than the entry ``before`` (None: the newest),
        newest first."""
        if before is None:
            found = await self._d.fetch(self._sql.audit_newest, workspace_id, limit)
        else:
            found = await self._d.fetch(self._sql.audit_before, workspace_id, before, limit)
        return [rows.audit_entry(r) for r in found]
