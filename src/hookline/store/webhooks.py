"""Routing configuration in SQL: flows and webhooks, the workspace config version that every
change to them bumps, the routing snapshot, and webhook health (the queue's hook that disables
a webhook inside its transaction, and the webhooks that are failing). Disabling a webhook holds
its pending deliveries and enabling it lets them go, in the same transaction (see store.held)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import orjson

from hookline.domain.models import Flow, Page, Webhook
from hookline.errors import Conflict
from hookline.store import held, rows
from hookline.store.base import RoutingSnapshot
from hookline.store.rows import dumps
from hookline.store.tx import SqlPrimitives, Tx

_WEBHOOK_COLUMNS = rows.WEBHOOK_COLUMNS
#: A workspace's config version, bumped by every webhook or flow change (see routing).
CONFIG_VERSION_SQL = "SELECT config_version FROM workspaces WHERE id = $1"


class SqlWebhookOps(SqlPrimitives):
    _webhook: rows.WebhookDecoder

    @abstractmethod
    async def _after_enqueue(self, tx: Tx) -> None:
        """Inside the enqueuing transaction: tell workers there is work."""

    @abstractmethod
    def notify_local(self) -> None: ...

    # -- flows --------------------------------------------------------------------------------
    async def save_flow(self, flow: Flow, *, create: bool) -> None:
        f = flow
        config = f.config.model_dump_json()
        if create:
            sql = (
                "INSERT INTO flows (id, workspace_id, name, description, config, created_at,"
                " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            )
            args: tuple[object, ...] = (f.id, f.workspace_id, f.name, f.description, config)
            args += (f.created_at, f.updated_at)
        else:
            sql = (
                "UPDATE flows SET name = $3, description = $4, config = $5, updated_at = $6"
                " WHERE workspace_id = $1 AND id = $2"
            )
            args = (f.workspace_id, f.id, f.name, f.description, config, f.updated_at)
        try:
            async with self._tx() as tx:
                await tx.execute(sql, *args)
                await self._bump_version(tx, f.workspace_id)  # routing reads flow triggers
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise Conflict(f"flow {f.name!r} exists", field="name") from None
            raise

    async def get_flow(self, workspace_id: str, flow_id: str) -> Flow | None:
        sql = "SELECT * FROM flows WHERE workspace_id = $1 AND id = $2"
        row = await self._fetchrow(sql, workspace_id, flow_id)
        return None if row is None else rows.flow(row)

    async def list_flows(self, workspace_id: str) -> list[Flow]:
        sql = "SELECT * FROM flows WHERE workspace_id = $1 ORDER BY name"
        return [rows.flow(r) for r in await self._fetch(sql, workspace_id)]

    async def delete_flow(self, workspace_id: str, flow_id: str) -> bool:
        async with self._tx() as tx:
            sql = "DELETE FROM flows WHERE workspace_id = $1 AND id = $2"
            if rows.rowcount(await tx.execute(sql, workspace_id, flow_id)) != 1:
                return False
            members = await tx.fetch(
                "SELECT id, config FROM webhooks WHERE workspace_id = $1 AND flow_id = $2",
                workspace_id,
                flow_id,
            )
            for row in members:
                # The config names the flow too: left there, the webhook could not be saved again.
                config = dumps(orjson.loads(row["config"]) | {"flow": None})
                sql = "UPDATE webhooks SET flow_id = NULL, config = $2 WHERE id = $1"
                await tx.execute(sql, row["id"], config)
            if members:
                await self._bump_version(tx, workspace_id)
            return True

    async def count_flow_webhooks(self, workspace_id: str, flow_id: str) -> int:
        sql = "SELECT COUNT(*) AS n FROM webhooks WHERE workspace_id = $1 AND flow_id = $2"
        row = await self._fetchrow(sql, workspace_id, flow_id)
        return int(row["n"]) if row else 0

    # -- webhooks -----------------------------------------------------------------------------
    async def save_webhook(self, webhook: Webhook, *, create: bool) -> None:
        w, c = webhook, webhook.config
        config = self._webhook.encode_config(c)
        secrets = self._webhook.encode_secrets(w)
        conflict = f"a webhook named {c.name!r} exists in this workspace"
        released = False
        try:
            async with self._tx() as tx:
                if create:
                    await tx.execute(
                        "INSERT INTO webhooks (id, workspace_id, name, flow_id, enabled, config,"
                        " secrets, disabled_reason, created_at, updated_at)"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                        w.id, w.workspace_id, c.name, c.flow, int(c.enabled), config, secrets,
                        w.disabled_reason, w.created_at, w.updated_at,
                    )  # fmt: skip
                else:
                    await tx.execute(
                        "UPDATE webhooks SET name = $3, flow_id = $4, enabled = $5, config = $6,"
                        " secrets = $7, disabled_reason = $8, updated_at = $9"
                        " WHERE workspace_id = $1 AND id = $2",
                        w.workspace_id, w.id, c.name, c.flow, int(c.enabled), config, secrets,
                        w.disabled_reason, w.updated_at,
                    )  # fmt: skip
                    released = await self._hold_or_release(tx, w.id, c.enabled)
                await self._bump_version(tx, w.workspace_id)
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise Conflict(conflict, field="name") from None
            raise
        if released:
            self.notify_local()

    async def _hold_or_release(self, tx: Tx, webhook_id: str, enabled: bool) -> bool:
        """Inside the transaction that enables or disables a webhook: hold its pending
        deliveries, or let those held go (then tell workers); whether any were let go."""
        if not enabled:
            await tx.execute(held.HOLD_SQL, webhook_id)
            return False
        released = rows.rowcount(await tx.execute(held.RELEASE_SQL, webhook_id)) > 0
        if released:
            await self._after_enqueue(tx)
        return released

    async def _bump_version(self, tx: Tx, workspace_id: str) -> None:
        sql = "UPDATE workspaces SET config_version = config_version + 1 WHERE id = $1"
        await tx.execute(sql, workspace_id)

    async def get_webhook(self, workspace_id: str, webhook_id: str) -> Webhook | None:
        sql = f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1 AND id = $2"
        row = await self._fetchrow(sql, workspace_id, webhook_id)
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
        where, args = ["workspace_id = $1"], list[Any]([workspace_id])
        for clause, value in (
            ("id > ${}", cursor),
            ("enabled = ${}", None if enabled is None else int(enabled)),
            ("flow_id = ${}", flow_id),
            ("LOWER(name) LIKE ${} ESCAPE '\\'", None if not search else _contains(search)),
        ):
            if value is not None:
                args.append(value)
                where.append(clause.format(len(args)))
        sql = (
            f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks WHERE {' AND '.join(where)}"
            f" ORDER BY id LIMIT {int(limit) + 1}"
        )
        return rows.page([self._webhook(r) for r in await self._fetch(sql, *args)], limit)

    async def delete_webhook(self, workspace_id: str, webhook_id: str) -> bool:
        async with self._tx() as tx:
            sql = "DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2"
            if rows.rowcount(await tx.execute(sql, workspace_id, webhook_id)) != 1:
                return False
            await tx.execute("DELETE FROM attempts WHERE webhook_id = $1", webhook_id)
            await tx.execute(
                "DELETE FROM delivery_events WHERE delivery_id IN"
                " (SELECT id FROM deliveries WHERE webhook_id = $1)",
                webhook_id,
            )
            await tx.execute("DELETE FROM deliveries WHERE webhook_id = $1", webhook_id)
            await self._bump_version(tx, workspace_id)
            return True

    async def set_webhook_enabled(
        self, webhook_id: str, enabled: bool, reason: str | None, now: float
    ) -> None:
        async with self._tx() as tx:
            released = await self._set_enabled_in_tx(tx, webhook_id, enabled, reason, now)
        if released:
            self.notify_local()

    # -- routing ------------------------------------------------------------------------------
    async def routing_snapshot(self, workspace_id: str) -> RoutingSnapshot | None:
        async with self._read() as conn:
            row = await conn.fetchrow(CONFIG_VERSION_SQL, workspace_id)
            if row is None:
                return None
            sql = f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1"
            hooks = [self._webhook(r) for r in await conn.fetch(sql, workspace_id)]
            found = await conn.fetch("SELECT * FROM flows WHERE workspace_id = $1", workspace_id)
            flows = {f.id: f for f in map(rows.flow, found)}
            return RoutingSnapshot(int(row["config_version"]), hooks, flows)

    async def config_version(self, workspace_id: str) -> int | None:
        row = await self._fetchrow(CONFIG_VERSION_SQL, workspace_id)
        return None if row is None else int(row["config_version"])

    # -- the queue's hooks (see queue.py) and webhook health ---------------------------------
    async def _disable_in_tx(self, tx: Tx, webhook_id: str, reason: str, now: float) -> None:
        await self._set_enabled_in_tx(tx, webhook_id, False, reason, now)

    async def _set_enabled_in_tx(
        self, tx: Tx, webhook_id: str, enabled: bool, reason: str | None, now: float
    ) -> bool:
        """The column the claims read and the stored config's flag, changed together; routing
        sees the change at once (the workspace's config version moves). The webhook's pending
        deliveries are held, or let go; whether any were let go."""
        row = await tx.fetchrow(
            "SELECT workspace_id, config FROM webhooks WHERE id = $1", webhook_id
        )
        if row is None:
            return False
        config = rows.loads_or_none(row["config"])
        config["enabled"] = enabled
        await tx.execute(
            "UPDATE webhooks SET enabled = $2, config = $3, disabled_reason = $4,"
            " updated_at = $5 WHERE id = $1",
            webhook_id, int(enabled), dumps(config), reason, now,
        )  # fmt: skip
        released = await self._hold_or_release(tx, webhook_id, enabled)
        await self._bump_version(tx, row["workspace_id"])
        return released

    async def disabled_webhooks(self) -> list[Webhook]:
        sql = f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks WHERE enabled = 0 ORDER BY id"
        return [self._webhook(r) for r in await self._fetch(sql)]

    async def failing_since(self, webhook_id: str) -> float | None:
        row = await self._fetchrow(
            "SELECT MAX(updated_at) AS t FROM deliveries"
            " WHERE webhook_id = $1 AND status = 'succeeded'",
            webhook_id,
        )
        last_success = 0.0 if row is None or row["t"] is None else float(row["t"])
        row = await self._fetchrow(
            "SELECT MIN(created_at) AS t FROM deliveries WHERE webhook_id = $1"
            " AND created_at > $2 AND status IN ('failed', 'pending') AND attempts > 0",
            webhook_id,
            last_success,
        )
        return None if row is None or row["t"] is None else float(row["t"])

    async def webhooks_with_failures(self) -> list[Webhook]:
        sql = (
            f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks w WHERE enabled = 1 AND EXISTS ("
            " SELECT 1 FROM deliveries d WHERE d.webhook_id = w.id"
            " AND d.status IN ('failed', 'pending') AND d.attempts > 0)"
        )
        return [self._webhook(r) for r in await self._fetch(sql)]


def _contains(text: str) -> str:
    """A LIKE pattern for a literal, case-folded substring (``%`` and ``_`` match themselves)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
