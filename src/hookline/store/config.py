"""Configuration: the store's meta entries, workspaces, API keys, revoked dashboard sessions,
flows and webhooks; the config version that every routing change bumps, the routing snapshot,
and webhook health (enabling and disabling, the failing webhooks). The event-type catalog is
``hookline.store.catalog``'s.

Disabling a webhook holds its pending deliveries and enabling it lets them go, in the same
transaction (see :mod:`hookline.store.held`).
"""

from __future__ import annotations

import orjson

from hookline.domain.models import ApiKey, Flow, Page, Webhook, Workspace
from hookline.errors import Conflict
from hookline.store import rows
from hookline.store.dialect import Dialect
from hookline.store.records import LogPage, RoutingSnapshot
from hookline.store.rows import dumps
from hookline.store.statements.config import WEBHOOKS, RoutingSql, WorkspaceSql
from hookline.store.statements.listing import RenderedListing
from hookline.store.tx import Tx


class ConfigRepository:
    """Everything a workspace is configured with (see the module's text)."""

    def __init__(self, dialect: Dialect, webhooks: rows.WebhookDecoder) -> None:
        self._d = dialect
        self._ws = dialect.prepare(WorkspaceSql())
        self._sql = dialect.prepare(RoutingSql())
        self._webhooks = RenderedListing(WEBHOOKS, dialect)
        self._webhook = webhooks

    async def _write(
        self, sql: str, *args: object, conflict: str | None = None, field: str = "name"
    ) -> int:
        """One statement in its own transaction: its row count; a unique violation becomes
        ``Conflict(conflict, field=field)`` when ``conflict`` is given."""
        try:
            return await self._d.write(sql, *args)
        except Exception as exc:
            if conflict and self._d.is_unique_violation(exc):
                raise Conflict(conflict, field=field) from None
            raise

    # -- meta, workspaces, keys --------------------------------------------------------------
    async def get_meta(self, key: str) -> str | None:
        row = await self._d.fetchrow(self._ws.get_meta, key)
        return None if row is None else str(row["value"])

    async def set_meta_if_absent(self, key: str, value: str) -> bool:
        return await self._write(self._ws.set_meta, key, value) == 1

    async def meta_once(self, key: str, value: str) -> str:
        """The value kept under ``key``: ``value`` if none was (the first process to ask sets
        it; every other process, now or later, reads the same)."""
        if await self.set_meta_if_absent(key, value):
            return value
        return await self.get_meta(key) or value

    async def create_workspace(self, workspace: Workspace) -> None:
        """``Conflict`` (field ``uid``) when another workspace has its uid."""
        w = workspace
        args = (w.id, w.name, w.created_at, *_workspace_settings(w))
        await self._write(self._ws.create_workspace, *args, conflict=_uid_taken(w), field="uid")

    async def update_workspace(self, workspace: Workspace) -> bool:
        """Save its name, uid, metadata, throttle rate and strictness; routing sees the change
        at once (the config version moves). False when it does not exist."""
        w = workspace
        args = (w.id, w.name, *_workspace_settings(w))
        return (
            await self._write(self._ws.update_workspace, *args, conflict=_uid_taken(w), field="uid")
            == 1
        )

    async def get_workspace(self, workspace_id: str) -> Workspace | None:
        row = await self._d.fetchrow(self._ws.workspace, workspace_id)
        return None if row is None else rows.workspace(row)

    async def list_workspaces_page(
        self, *, limit: int, cursor: str | None = None, backwards: bool = False
    ) -> LogPage:
        """Workspaces oldest first after ``cursor``, or (``backwards``) the page before it."""
        sql = self._ws.workspaces_before if backwards else self._ws.workspaces_after
        found = list(await self._d.fetch(sql, cursor or "", limit + 1))
        page = [rows.workspace(r) for r in found[:limit]]
        return LogPage(page[::-1] if backwards else page, len(found) > limit)

    async def get_workspace_by_uid(self, uid: str) -> Workspace | None:
        row = await self._d.fetchrow(self._ws.workspace_by_uid, uid)
        return None if row is None else rows.workspace(row)

    async def list_workspaces(self) -> list[Workspace]:
        return [rows.workspace(r) for r in await self._d.fetch(self._ws.workspaces)]

    async def workspace_throttle_rates(self) -> dict[str, int]:
        """Every workspace with a throttle rate: {id: messages per second} (the worker paces
        their deliveries, see :mod:`hookline.delivery.workspace_rates`)."""
        found = await self._d.fetch(self._ws.throttle_rates)
        return {str(r["id"]): int(r["throttle_rate"]) for r in found}

    async def create_api_key(self, key: ApiKey) -> None:
        k = key
        args = (k.id, k.workspace_id, k.name, k.prefix, k.key_hash, k.created_at)
        await self._write(self._ws.create_api_key, *args)

    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        """The unrevoked key with this hash, or None."""
        row = await self._d.fetchrow(self._ws.api_key, key_hash)
        return None if row is None else rows.api_key(row)

    async def list_api_keys(self, workspace_id: str) -> list[ApiKey]:
        return [rows.api_key(r) for r in await self._d.fetch(self._ws.api_keys, workspace_id)]

    async def revoke_api_key(self, workspace_id: str, key_id: str, now: float) -> bool:
        return await self._write(self._ws.revoke_api_key, workspace_id, key_id, now) == 1

    # -- dashboard sign-outs ------------------------------------------------------------------
    async def revoke_session(self, sid: str, expires_at: float) -> None:
        """Refuse the dashboard session ``sid`` in every process until ``expires_at`` (when its
        cookie expires anyway). Revoking it again is not an error."""
        await self._write(self._ws.revoke_session, sid, expires_at)

    async def session_revoked(self, sid: str) -> bool:
        """Whether ``sid`` was signed out (one primary-key lookup: every dashboard request asks)."""
        return await self._d.fetchrow(self._ws.session_revoked, sid) is not None

    async def purge_revoked_sessions(self, now: float) -> int:
        """Forget revocations whose session has expired by ``now``; how many were removed."""
        return await self._write(self._ws.purge_sessions, now)

    # -- flows --------------------------------------------------------------------------------
    async def save_flow(self, flow: Flow, *, create: bool) -> None:
        f = flow
        config = f.config.model_dump_json()
        if create:
            sql = self._sql.create_flow
            args: tuple[object, ...] = (f.id, f.workspace_id, f.name, f.description, config)
            args += (f.created_at, f.updated_at)
        else:
            sql = self._sql.update_flow
            args = (f.workspace_id, f.id, f.name, f.description, config, f.updated_at)
        try:
            async with self._d.tx() as tx:
                await tx.execute(sql, *args)
                await self._bump_version(tx, f.workspace_id)  # routing reads flow triggers
        except Exception as exc:
            if self._d.is_unique_violation(exc):
                raise Conflict(f"flow {f.name!r} exists", field="name") from None
            raise

    async def get_flow(self, workspace_id: str, flow_id: str) -> Flow | None:
        row = await self._d.fetchrow(self._sql.flow, workspace_id, flow_id)
        return None if row is None else rows.flow(row)

    async def list_flows(self, workspace_id: str) -> list[Flow]:
        return [rows.flow(r) for r in await self._d.fetch(self._sql.flows, workspace_id)]

    async def delete_flow(self, workspace_id: str, flow_id: str) -> bool:
        sql = self._sql
        async with self._d.tx() as tx:
            if rows.rowcount(await tx.execute(sql.delete_flow, workspace_id, flow_id)) != 1:
                return False
            members = await tx.fetch(sql.flow_members, workspace_id, flow_id)
            for row in members:
                # The config names the flow too: left there, the webhook could not be saved again.
                config = dumps(orjson.loads(row["config"]) | {"flow": None})
                await tx.execute(sql.detach, row["id"], config)
            if members:
                await self._bump_version(tx, workspace_id)
            return True

    async def count_flow_webhooks(self, workspace_id: str, flow_id: str) -> int:
        row = await self._d.fetchrow(self._sql.count_members, workspace_id, flow_id)
        return int(row["n"]) if row else 0

    # -- webhooks -----------------------------------------------------------------------------
    async def save_webhook(self, webhook: Webhook, *, create: bool) -> None:
        """Insert or replace; ``Conflict`` on a duplicate name. Bumps the workspace version."""
        w, c = webhook, webhook.config
        stored = (
            c.name, c.flow, int(c.enabled), self._webhook.encode_config(c),
            self._webhook.encode_secrets(w), w.disabled_reason, c.uid,
        )  # fmt: skip
        released = False
        try:
            async with self._d.tx() as tx:
                if create:
                    ids, times = (w.id, w.workspace_id), (w.created_at, w.updated_at)
                    await tx.execute(self._sql.create_webhook, *ids, *stored, *times)
                else:
                    ids = (w.workspace_id, w.id)
                    await tx.execute(self._sql.update_webhook, *ids, *stored, w.updated_at)
                    released = await self._hold_or_release(tx, w.id, c.enabled)
                await self._bump_version(tx, w.workspace_id)
        except Exception as exc:
            if self._d.is_unique_violation(exc):
                taken = c.uid and await self.get_webhook_by_uid(w.workspace_id, c.uid)
                if taken and taken.id != w.id:
                    conflict = f"a webhook with uid {c.uid!r} exists in this workspace"
                    raise Conflict(conflict, field="uid") from None
                conflict = f"a webhook named {c.name!r} exists in this workspace"
                raise Conflict(conflict, field="name") from None
            raise
        if released:
            self._d.notify_local()

    async def _hold_or_release(self, tx: Tx, webhook_id: str, enabled: bool) -> bool:
        """Inside the transaction that enables or disables a webhook: hold its pending
        deliveries, or let those held go (then tell workers); whether any were let go."""
        if not enabled:
            await tx.execute(self._sql.hold, webhook_id)
            return False
        released = rows.rowcount(await tx.execute(self._sql.release_held, webhook_id)) > 0
        if released:
            await self._d.after_enqueue(tx)
        return released

    async def _bump_version(self, tx: Tx, workspace_id: str) -> None:
        await tx.execute(self._sql.bump_version, workspace_id)

    async def get_webhook(self, workspace_id: str, webhook_id: str) -> Webhook | None:
        row = await self._d.fetchrow(self._sql.webhook, workspace_id, webhook_id)
        return None if row is None else self._webhook(row)

    async def get_webhook_by_uid(self, workspace_id: str, uid: str) -> Webhook | None:
        row = await self._d.fetchrow(self._sql.webhook_by_uid, workspace_id, uid)
        return None if row is None else self._webhook(row)

    async def list_webhooks(
        self,
        workspace_id: str,
        *,
        limit: int,
        cursor: str | None = None,
        enabled: bool | None = None,
        flow_id: str | None = None,
        search: str | None = None,
    ) -> Page:
        filters = (
            cursor,
            None if enabled is None else int(enabled),
            flow_id,
            None if not search else _contains(search),
        )
        sql, args = self._webhooks.query((workspace_id,), filters, limit)
        return rows.page([self._webhook(r) for r in await self._d.fetch(sql, *args)], limit)

    async def page_webhooks(
        self, workspace_id: str, *, limit: int, cursor: str | None = None, backwards: bool = False
    ) -> LogPage:
        """The workspace's webhooks oldest first after ``cursor``, or (``backwards``) the page
        before it."""
        sql = self._sql.webhooks_before if backwards else self._sql.webhooks_after
        found = list(await self._d.fetch(sql, workspace_id, cursor or "", limit + 1))
        page = [self._webhook(r) for r in found[:limit]]
        return LogPage(page[::-1] if backwards else page, len(found) > limit)

    async def delete_webhook(self, workspace_id: str, webhook_id: str) -> bool:
        sql = self._sql
        async with self._d.tx() as tx:
            if rows.rowcount(await tx.execute(sql.delete_webhook, workspace_id, webhook_id)) != 1:
                return False
            await tx.execute(sql.delete_webhook_attempts, webhook_id)
            await tx.execute(sql.delete_webhook_links, webhook_id)
            await tx.execute(sql.delete_webhook_deliveries, webhook_id)
            await self._bump_version(tx, workspace_id)
            return True

    async def set_webhook_enabled(
        self, webhook_id: str, enabled: bool, reason: str | None, now: float
    ) -> None:
        async with self._d.tx() as tx:
            released = await self._set_enabled(tx, webhook_id, enabled, reason, now)
        if released:
            self._d.notify_local()

    async def disable_in_tx(self, tx: Tx, webhook_id: str, reason: str, now: float) -> bool:
        """Inside the caller's transaction: disable a webhook (an endpoint answered 410 Gone)."""
        return await self._set_enabled(tx, webhook_id, False, reason, now)

    async def _set_enabled(
        self, tx: Tx, webhook_id: str, enabled: bool, reason: str | None, now: float
    ) -> bool:
        """The column the claims read and the stored config's flag, changed together; routing
        sees the change at once (the workspace's config version moves). The webhook's pending
        deliveries are held, or let go; whether any were let go."""
        row = await tx.fetchrow(self._sql.webhook_config, webhook_id)
        if row is None:
            return False
        config = rows.loads_or_none(row["config"])
        config["enabled"] = enabled
        args = (webhook_id, int(enabled), dumps(config), reason, now)
        await tx.execute(self._sql.set_enabled, *args)
        released = await self._hold_or_release(tx, webhook_id, enabled)
        await self._bump_version(tx, row["workspace_id"])
        return released

    # -- routing ------------------------------------------------------------------------------
    async def routing_snapshot(self, workspace_id: str) -> RoutingSnapshot | None:
        """The workspace's config version, webhooks (disabled ones included: their deliveries
        are held) and flows (None if it is unknown)."""
        sql = self._sql
        async with self._d.read() as conn:
            row = await conn.fetchrow(sql.config_version, workspace_id)
            if row is None:
                return None
            found = await conn.fetch(sql.workspace_webhooks, workspace_id)
            hooks = [self._webhook(r) for r in found]
            flows = {f.id: f for f in map(rows.flow, await conn.fetch(sql.all_flows, workspace_id))}
            return RoutingSnapshot(int(row["config_version"]), hooks, flows)

    async def config_version(self, workspace_id: str) -> int | None:
        """The workspace's config version (every publish asks: a quick read, see the dialect)."""
        row = await self._d.quick_fetchrow(self._sql.config_version, workspace_id)
        return None if row is None else int(row["config_version"])

    # -- webhook health -----------------------------------------------------------------------
    async def disabled_webhooks(self) -> list[Webhook]:
        """Every disabled webhook, of every workspace."""
        return [self._webhook(r) for r in await self._d.fetch(self._sql.disabled)]

    async def failing_since(self, webhook_id: str) -> float | None:
        """When the webhook's current run of failures began (None if it is not failing)."""
        row = await self._d.fetchrow(self._sql.last_success, webhook_id)
        last_success = 0.0 if row is None or row["t"] is None else float(row["t"])
        row = await self._d.fetchrow(self._sql.first_failure, webhook_id, last_success)
        return None if row is None or row["t"] is None else float(row["t"])

    async def webhooks_with_failures(self) -> list[Webhook]:
        """Enabled webhooks with a failed or retrying delivery."""
        return [self._webhook(r) for r in await self._d.fetch(self._sql.with_failures)]


def _contains(text: str) -> str:
    """A LIKE pattern for a literal, case-folded substring (``%`` and ``_`` match themselves)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _workspace_settings(w: Workspace) -> tuple[object, ...]:
    """A workspace's settings in the order both of its statements take them, after the name."""
    metadata = dumps(w.metadata)
    return (w.uid, metadata, w.throttle_rate, int(w.strict_event_types), w.updated_at)


def _uid_taken(w: Workspace) -> str | None:
    """What a unique violation means for this workspace: its uid is taken (an id collision,
    without a uid, stays the driver's error)."""
    return None if w.uid is None else f"a workspace with uid {w.uid!r} exists"
