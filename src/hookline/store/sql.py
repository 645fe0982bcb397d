"""The domain operations in SQL shared by SQLite and PostgreSQL, composed into one store.

Statements are written with PostgreSQL's ``$n`` placeholders; the SQLite dialect rewrites them
to ``?n``. Dialects supply transactions, list parameters, the claim query and notifications.
Each group of operations is a mixin in a module of its own; ``SqlStore`` composes them.
"""

from __future__ import annotations

from typing import Any

from hookline.domain.secretbox import SecretBox
from hookline.errors import Conflict
from hookline.store import rows
from hookline.store.base import Store
from hookline.store.bins import SqlBinOps
from hookline.store.entities import SqlEntityOps
from hookline.store.history import SqlHistoryOps
from hookline.store.publishing import SqlPublishOps
from hookline.store.queue import SqlQueueOps
from hookline.store.tx import SqlPrimitives
from hookline.store.webhooks import SqlWebhookOps
from hookline.store.windows import SqlWindowOps
from hookline.store.workspaces import SqlWorkspaceOps

__all__ = ["SqlStore"]


# SqlWebhookOps precedes SqlQueueOps: its _disable_in_tx implements the queue's abstract hook.
class SqlStore(
    SqlWorkspaceOps,
    SqlWebhookOps,
    SqlPublishOps,
    SqlHistoryOps,
    SqlBinOps,
    SqlEntityOps,
    SqlQueueOps,
    SqlWindowOps,
    SqlPrimitives,
    Store,
):
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
