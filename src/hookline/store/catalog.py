"""The event-type catalog: each workspace's entries, and the shared (instance-wide) catalog,
stored as the entries of workspace ``''`` (``SHARED_CATALOG``).

A workspace sees its own entries and the shared ones together; of two with the same name, its
own shadows the shared one. Saving or deleting a workspace's entry moves the workspace's config
version in the same transaction, so that the processes publishing to it read its catalog again
(``hookline.services.catalog_gate``); the shared catalog has no version of its own.
"""

from __future__ import annotations

from hookline.domain.models import SHARED_CATALOG, EventType, Page
from hookline.errors import Conflict
from hookline.store import rows
from hookline.store.dialect import Dialect
from hookline.store.rows import dumps
from hookline.store.statements.catalog import EVENT_TYPES, EVENT_TYPES_BEFORE, CatalogSql
from hookline.store.statements.listing import RenderedListing


class CatalogRepository:
    """Event types, a workspace's and the shared ones (see the module's text)."""

    def __init__(self, dialect: Dialect) -> None:
        self._d = dialect
        self._sql = dialect.prepare(CatalogSql())
        self._listing = RenderedListing(EVENT_TYPES, dialect)
        self._listing_before = RenderedListing(EVENT_TYPES_BEFORE, dialect)

    async def save_event_type(self, event_type: EventType, *, create: bool) -> None:
        """Insert (``create``) or replace the entry of its scope (``workspace_id``);
        ``Conflict`` when the scope has an entry of that name already."""
        et = event_type
        schema = None if et.schema is None else dumps(et.schema)
        example = None if et.example is None else dumps(et.example)
        settings = rows.event_type_settings(et)
        args: tuple[object, ...]
        if create:
            sql = self._sql.create
            args = (et.id, et.workspace_id, et.name, et.description, schema, example)
            args += (et.created_at, et.updated_at, *settings)
        else:
            sql = self._sql.update
            args = (et.workspace_id, et.id, et.description, schema, example, et.updated_at)
            args += settings
        try:
            async with self._d.tx() as tx:
                await tx.execute(sql, *args)
                if et.workspace_id != SHARED_CATALOG:
                    await tx.execute(self._sql.bump_version, et.workspace_id)
        except Exception as exc:
            if self._d.is_unique_violation(exc):
                raise Conflict(f"event type {et.name!r} exists", field="name") from None
            raise

    async def get_event_type(self, workspace_id: str, name: str) -> EventType | None:
        """The entry of this name in exactly this scope (``SHARED_CATALOG``: the shared one)."""
        row = await self._d.fetchrow(self._sql.one, workspace_id, name)
        return None if row is None else rows.event_type(row)

    async def find_event_type(self, workspace_id: str, name: str) -> EventType | None:
        """The entry a workspace sees under this name: its own, else the shared one."""
        row = await self._d.fetchrow(self._sql.found, workspace_id, name)
        return None if row is None else rows.event_type(row)

    async def list_event_types(self, workspace_id: str) -> list[EventType]:
        """Every entry of exactly this scope, by name."""
        return [rows.event_type(r) for r in await self._d.fetch(self._sql.scope, workspace_id)]

    async def workspace_event_types(
        self, workspace_id: str, *, include_archived: bool = True
    ) -> list[EventType]:
        """What the workspace sees, by name: its entries and the shared ones a name of its own
        does not shadow; without the archived ones unless ``include_archived``. (An archived
        entry of its own still shadows a shared one.)"""
        seen: set[str] = set()
        found: list[EventType] = []
        for row in await self._d.fetch(self._sql.view, workspace_id):
            if row["name"] in seen:
                continue
            seen.add(row["name"])
            if include_archived or not row["archived"]:
                found.append(rows.event_type(row))
        return found

    async def page_event_types(
        self,
        workspace_id: str,
        *,
        limit: int,
        after: str | None = None,
        include_archived: bool = False,
        before: str | None = None,
    ) -> Page:
        """Up to ``limit`` entries of exactly this scope by name, after the name ``after``, or
        (``before``) the page that ends before that name, still by name; ``next_cursor`` is the
        last name of a page that has a next one in the direction read."""
        archived = None if include_archived else 0
        if before is not None:
            sql, args = self._listing_before.query((workspace_id,), (before, archived), limit)
            found = [rows.event_type(r) for r in await self._d.fetch(sql, *args)]
            more = len(found) > limit
            page = found[:limit][::-1]
            return Page(items=page, next_cursor=page[0].name if more else None)
        sql, args = self._listing.query((workspace_id,), (after, archived), limit)
        found = [rows.event_type(r) for r in await self._d.fetch(sql, *args)]
        if len(found) > limit:
            return Page(items=found[:limit], next_cursor=found[limit - 1].name)
        return Page(items=found, next_cursor=None)

    async def delete_event_type(self, workspace_id: str, name: str) -> bool:
        """Remove the entry of exactly this scope; False when there is none."""
        async with self._d.tx() as tx:
            if rows.rowcount(await tx.execute(self._sql.delete, workspace_id, name)) != 1:
                return False
            if workspace_id != SHARED_CATALOG:
                await tx.execute(self._sql.bump_version, workspace_id)
            return True
