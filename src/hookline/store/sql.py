"""The domain operations in SQL shared by SQLite and PostgreSQL.

Statements are written with PostgreSQL's ``$n`` placeholders; the SQLite dialect rewrites them
to ``?n``. Dialects supply transactions, list parameters, the claim query and notifications.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from hookline.errors import Conflict
from hookline.models import (
    ApiKey,
    Attempt,
    Delivery,
    DeliveryStatus,
    Event,
    EventType,
    Flow,
    Page,
    Webhook,
    Workspace,
)
from hookline.secretbox import SecretBox
from hookline.store import rows
from hookline.store.base import (
    DeliveryQuery,
    PublishItem,
    PublishResult,
    RoutingSnapshot,
    Store,
)
from hookline.store.bins import SqlBinOps
from hookline.store.entities import SqlEntityOps
from hookline.store.queue import SqlQueueOps
from hookline.store.rows import dumps
from hookline.store.tx import SqlPrimitives, Tx
from hookline.store.windows import SqlWindowOps

_WEBHOOK_COLUMNS = rows.WEBHOOK_COLUMNS
#: A workspace's config version, bumped by every webhook or flow change (see routing).
CONFIG_VERSION_SQL = "SELECT config_version FROM workspaces WHERE id = $1"


class SqlStore(SqlBinOps, SqlEntityOps, SqlQueueOps, SqlWindowOps, SqlPrimitives, Store):
    def __init__(self, box: SecretBox) -> None:
        self._webhook = rows.WebhookDecoder(box)

    # -- dialect hooks (with the primitives of SqlPrimitives) -----------------------------------
    async def _write(self, sql: str, *args: Any, conflict: str | None = None) -> int:
        try:
            async with self._tx() as tx:
                return rows.rowcount(await tx.execute(sql, *args))
        except Exception as exc:
            if conflict and self._is_unique_violation(exc):
                raise Conflict(conflict, field="name") from None
            raise

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
        config = c.model_dump_json()
        secrets = self._webhook.encode_secrets(w)
        conflict = f"a webhook named {c.name!r} exists in this workspace"
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
                await self._bump_version(tx, w.workspace_id)
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise Conflict(conflict, field="name") from None
            raise

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
            row = await tx.fetchrow(
                "SELECT workspace_id, config FROM webhooks WHERE id = $1", webhook_id
            )
            if row is None:
                return
            config = rows.loads_or_none(row["config"])
            config["enabled"] = enabled
            await tx.execute(
                "UPDATE webhooks SET enabled = $2, config = $3, disabled_reason = $4,"
                " updated_at = $5 WHERE id = $1",
                webhook_id, int(enabled), dumps(config), reason, now,
            )  # fmt: skip
            await self._bump_version(tx, row["workspace_id"])

    # -- events and deliveries ---------------------------------------------------------------
    async def routing_snapshot(self, workspace_id: str) -> RoutingSnapshot | None:
        async with self._read() as conn:
            row = await conn.fetchrow(CONFIG_VERSION_SQL, workspace_id)
            if row is None:
                return None
            sql = f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1 AND enabled = 1"
            hooks = [self._webhook(r) for r in await conn.fetch(sql, workspace_id)]
            found = await conn.fetch("SELECT * FROM flows WHERE workspace_id = $1", workspace_id)
            flows = {f.id: f for f in map(rows.flow, found)}
            return RoutingSnapshot(int(row["config_version"]), hooks, flows)

    async def config_version(self, workspace_id: str) -> int | None:
        row = await self._fetchrow(CONFIG_VERSION_SQL, workspace_id)
        return None if row is None else int(row["config_version"])

    async def publish_many(self, items: Sequence[PublishItem]) -> list[PublishResult]:
        # A key repeated within the call maps to its first occurrence, the only one inserted.
        firsts: dict[tuple[str, str], int] = {}
        repeats: dict[int, int] = {}
        for i, item in enumerate(items):
            key = item.event.idempotency_key
            if key is not None:
                first = firsts.setdefault((item.event.workspace_id, key), i)
                if first != i:
                    repeats[i] = first
        fresh = [item for i, item in enumerate(items) if i not in repeats]
        if not fresh:
            return []
        async with self._tx() as tx:
            await self._insert_events(tx, [item.event for item in fresh])
            skipped = await self._skipped_events(tx, [item.event for item in fresh])
            stored = [item for item in fresh if item.event.id not in skipped]
            queued = await self._enqueue_many(tx, stored)
            done = {
                item.event.id: PublishResult(item.event, deliveries, created=True)
                for item, deliveries in zip(stored, queued, strict=True)
            }
            if skipped:
                done |= await self._existing_publishes(
                    tx, [item.event for item in fresh if item.event.id in skipped]
                )
        if any(queued):
            self.notify_local()
        results: list[PublishResult] = []
        for i, item in enumerate(items):
            if i in repeats:
                earlier = results[repeats[i]]
                results.append(PublishResult(earlier.event, earlier.deliveries, created=False))
            else:
                results.append(done[item.event.id])
        return results

    async def _insert_events(self, tx: Tx, events: Sequence[Event]) -> None:
        """One multi-row insert; an event whose idempotency key exists already is skipped."""
        try:
            await self._insert_many(
                tx,
                "events",
                rows.EVENT_COLUMNS,
                [(e.id, e.workspace_id, e.type, e.body, e.idempotency_key, e.created_at)
                 for e in events],
                " ON CONFLICT (workspace_id, idempotency_key) DO NOTHING",
            )  # fmt: skip
        except Exception as exc:
            # Only the primary key is left to violate: an id collision, not an idempotent
            # repeat, must never silently drop an event.
            if self._is_unique_violation(exc):
                raise Conflict("event id already exists", field="id") from None
            raise

    async def _skipped_events(self, tx: Tx, events: Sequence[Event]) -> set[str]:
        """The ids of those events the insert skipped (only an idempotency key can do that:
        a statement that returns rows cannot be run for many parameter sets on every driver)."""
        keyed = [e.id for e in events if e.idempotency_key is not None]
        if not keyed:
            return set()
        found = await tx.fetch(f"SELECT id FROM events WHERE id {self._in(1)}", self._list(keyed))
        return set(keyed).difference(r["id"] for r in found)

    async def _existing_publishes(
        self, tx: Tx, repeats: Sequence[Event]
    ) -> dict[str, PublishResult]:
        """For each idempotent repeat (by its own id): the first event with its key and the
        deliveries it queued, windows it joined included, in id order."""
        keys: dict[str, list[str]] = {}
        for e in repeats:
            keys.setdefault(e.workspace_id, []).append(str(e.idempotency_key))
        firsts: dict[tuple[str, str], Event] = {}
        for workspace_id, names in keys.items():
            found = await tx.fetch(
                f"SELECT * FROM events WHERE workspace_id = $1 AND idempotency_key {self._in(2)}",
                workspace_id,
                self._list(names),
            )
            for row in found:
                event = rows.event(row)
                firsts[(event.workspace_id, str(event.idempotency_key))] = event
        queued: dict[str, dict[str, Delivery]] = {e.id: {} for e in firsts.values()}
        for row in await tx.fetch(
            "SELECT d.*, d.event_id AS queued_for FROM deliveries d"
            f" WHERE d.event_id {self._in(1)}"
            " UNION ALL SELECT d.*, de.event_id AS queued_for FROM delivery_events de"
            f" JOIN deliveries d ON d.id = de.delivery_id WHERE de.event_id {self._in(1)}",
            self._list(list(queued)),
        ):
            queued[row["queued_for"]][row["id"]] = rows.delivery(row)
        results = {}
        for e in repeats:
            original = firsts.get((e.workspace_id, str(e.idempotency_key)))
            if original is None:  # cannot happen: only an existing key makes the insert skip
                raise Conflict("event id already exists", field="id")
            deliveries = sorted(queued[original.id].values(), key=lambda d: d.id)
            results[e.id] = PublishResult(event=original, deliveries=deliveries, created=False)
        return results

    async def get_event(self, workspace_id: str, event_id: str) -> Event | None:
        sql = "SELECT * FROM events WHERE workspace_id = $1 AND id = $2"
        row = await self._fetchrow(sql, workspace_id, event_id)
        return None if row is None else rows.event(row)

    async def list_events(
        self, workspace_id: str, *, limit: int, cursor: str | None = None, type: str | None = None
    ) -> Page:
        where, args = ["workspace_id = $1"], [workspace_id]
        if cursor:
            args.append(cursor)
            where.append(f"id < ${len(args)}")
        if type:
            args.append(type)
            where.append(f"type = ${len(args)}")
        sql = (
            f"SELECT * FROM events WHERE {' AND '.join(where)}"
            f" ORDER BY id DESC LIMIT {int(limit) + 1}"
        )
        return rows.page([rows.event(r) for r in await self._fetch(sql, *args)], limit)

    async def get_delivery(self, workspace_id: str, delivery_id: str) -> Delivery | None:
        sql = "SELECT * FROM deliveries WHERE workspace_id = $1 AND id = $2"
        row = await self._fetchrow(sql, workspace_id, delivery_id)
        return None if row is None else rows.delivery(row)

    async def list_deliveries(self, workspace_id: str, query: DeliveryQuery) -> Page:
        q = query
        where, args = ["workspace_id = $1"], list[Any]([workspace_id])
        for clause, value in (
            ("id < ${}", q.cursor),
            ("webhook_id = ${}", q.webhook_id),
            ("event_id = ${}", q.event_id),
            ("status = ${}", None if q.status is None else q.status.value),
            ("created_at >= ${}", q.since),
            ("created_at < ${}", q.until),
        ):
            if value is not None:
                args.append(value)
                where.append(clause.format(len(args)))
        sql = (
            f"SELECT * FROM deliveries WHERE {' AND '.join(where)}"
            f" ORDER BY id DESC LIMIT {int(q.limit) + 1}"
        )
        return rows.page([rows.delivery(r) for r in await self._fetch(sql, *args)], q.limit)

    async def list_attempts(self, workspace_id: str, delivery_id: str) -> list[Attempt]:
        # An attempt that sent its event's body unchanged keeps no copy: the event has it (and
        # outlives the attempt: events are purged only once no delivery refers to them).
        sql = (
            "SELECT a.*, CASE WHEN a.request_body_is_event = 1 THEN e.body END AS event_body"
            " FROM attempts a LEFT JOIN deliveries d ON d.id = a.delivery_id"
            " LEFT JOIN events e ON e.id = d.event_id"
            " WHERE a.workspace_id = $1 AND a.delivery_id = $2 ORDER BY a.number"
        )
        return [rows.attempt(r) for r in await self._fetch(sql, workspace_id, delivery_id)]

    async def retry_delivery(self, workspace_id: str, delivery_id: str, now: float) -> bool:
        async with self._tx() as tx:
            n = await tx.execute(
                "UPDATE deliveries SET status = 'pending', retry_base = attempts,"
                " next_attempt_at = $3, lease_until = 0, updated_at = $3"
                " WHERE workspace_id = $1 AND id = $2 AND lease_until < $3",
                workspace_id, delivery_id, now,
            )  # fmt: skip
            if rows.rowcount(n) == 1:
                await self._after_enqueue(tx)
        self.notify_local()
        return rows.rowcount(n) == 1

    async def replay_webhook(
        self,
        workspace_id: str,
        webhook_id: str,
        *,
        since: float,
        until: float,
        statuses: Sequence[DeliveryStatus],
        now: float,
    ) -> int:
        async with self._tx() as tx:
            n = rows.rowcount(
                await tx.execute(
                    "UPDATE deliveries SET status = 'pending', retry_base = attempts,"
                    " next_attempt_at = $5, lease_until = 0, updated_at = $5"
                    " WHERE workspace_id = $1 AND webhook_id = $2 AND created_at >= $3"
                    f" AND created_at < $4 AND lease_until < $5 AND status {self._in(6)}",
                    workspace_id,
                    webhook_id,
                    since,
                    until,
                    now,
                    self._list([s.value for s in statuses]),
                )
            )
            if n:
                await self._after_enqueue(tx)
        self.notify_local()
        return n

    # -- the queue's hooks (see queue.py) and webhook health ---------------------------------
    async def _disable_in_tx(self, tx: Tx, webhook_id: str, reason: str, now: float) -> None:
        row = await tx.fetchrow(
            "SELECT workspace_id, config FROM webhooks WHERE id = $1", webhook_id
        )
        if row is None:
            return
        config = rows.loads_or_none(row["config"])
        config["enabled"] = False
        await tx.execute(
            "UPDATE webhooks SET enabled = 0, config = $2, disabled_reason = $3, updated_at = $4"
            " WHERE id = $1",
            webhook_id, dumps(config), reason, now,
        )  # fmt: skip
        await self._bump_version(tx, row["workspace_id"])

    async def failing_since(self, webhook_id: str) -> float | None:
        row = await self._fetchrow(
            "SELECT MAX(updated_at) AS t FROM deliveries"
            " WHERE webhook_id = $1 AND status = 'succeeded'",
            webhook_id,
        )
        last_success = 0.0 if row is None or row["t"] is None else float(row["t"])
        row = await self._fetchrow(
            "SELECT MIN(created_at) AS t FROM deliveries WHERE webhook_id = $1"
            " AND created_at > $2 AND (status = 'failed' OR (status = 'pending' AND attempts > 0))",
            webhook_id,
            last_success,
        )
        return None if row is None or row["t"] is None else float(row["t"])

    async def webhooks_with_failures(self) -> list[Webhook]:
        sql = (
            f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks w WHERE enabled = 1 AND EXISTS ("
            " SELECT 1 FROM deliveries d WHERE d.webhook_id = w.id"
            " AND (d.status = 'failed' OR (d.status = 'pending' AND d.attempts > 0)))"
        )
        return [self._webhook(r) for r in await self._fetch(sql)]


def _contains(text: str) -> str:
    """A LIKE pattern for a literal, case-folded substring (``%`` and ``_`` match themselves)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
