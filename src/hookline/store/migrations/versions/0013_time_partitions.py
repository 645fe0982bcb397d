"""history tables partitioned by time on PostgreSQL; idempotency keys in their own table

- ``event_keys`` (both databases): each workspace's idempotency keys and the event that holds
  each one. A key's uniqueness moves here from ``events`` (whose constraint goes): a unique
  constraint on a partitioned table must include its partition key, and a key must be unique
  across all of a workspace's events, not within one partition.
- ``delivery_events`` gains an index on ``event_id`` (the deliveries that collected an event).
- ``deliveries`` gains ``ix_deliveries_pending``, the ids of pending deliveries: the oldest one
  bounds the claim to the partitions that can hold pending work.
- PostgreSQL: ``events``, ``deliveries``, ``attempts`` and ``delivery_events`` become ``RANGE``
  partitioned tables, events on their id, deliveries on theirs, attempts and window links on
  their delivery's id (ids are ULIDs, so a range of ids is a range of time; see
  :mod:`hookline.domain.partition_plan`). Existing rows are copied into daily partitions (rows
  older than 45 days into one partition of their own), and partitions up to three days ahead
  are made; after this, every process keeps partitions ahead and retention drops whole
  partitions (docs/operations.md, "Partitions and retention").

On PostgreSQL the conversion copies the four tables in one transaction that holds an
``ACCESS EXCLUSIVE`` lock on them throughout: publishing, delivering and reading history wait
until it commits. It took 14 s for 1,000,000 deliveries with their events and attempts here
(docs/operations.md gives the figures): stop the API and workers, or expect that pause.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hookline.domain.ids import id_time
from hookline.domain.partition_plan import Span, floor_boundary, horizon, to_create
from hookline.store.partition_ddl import TABLES, create_partition

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Rows made within this many days get daily partitions; older ones share one.
DAILY_DAYS = 45

#: Each table's primary key and indexes, as they are after this migration (and before it,
#: except the indexes of ``_NEW`` and the attempts' key).
_KEYS = {
    "events": "id",
    "deliveries": "id",
    # A partitioned table's unique keys must include its partition key.
    "attempts": "id, delivery_id",
    "delivery_events": "delivery_id, position",
}
_PLAIN_KEYS = {**_KEYS, "attempts": "id"}
_INDEXES = {
    "events": ["CREATE INDEX ix_events_ws_created ON events (workspace_id, created_at)"],
    "deliveries": [
        "CREATE INDEX ix_deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending'",
        "CREATE INDEX ix_deliveries_fifo ON deliveries (webhook_id, id) WHERE status = 'pending'",
        "CREATE INDEX ix_deliveries_event ON deliveries (event_id)",
        "CREATE INDEX ix_deliveries_webhook_created ON deliveries (webhook_id, created_at)",
        "CREATE INDEX ix_deliveries_ws_created ON deliveries (workspace_id, created_at)",
        "CREATE INDEX ix_deliveries_pending ON deliveries (id) WHERE status = 'pending'",
    ],
    "attempts": [
        "CREATE INDEX ix_attempts_delivery ON attempts (delivery_id)",
        "CREATE INDEX ix_attempts_webhook ON attempts (webhook_id, id)",
    ],
    "delivery_events": ["CREATE INDEX ix_delivery_events_event ON delivery_events (event_id)"],
}
#: The indexes this migration adds (the others were there before it).
_NEW = ("ix_delivery_events_event", "ix_deliveries_pending")


def upgrade() -> None:
    op.create_table(
        "event_keys",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "idempotency_key", name="pk_event_keys"),
    )
    with op.batch_alter_table("event_keys") as batch_op:
        batch_op.create_index("ix_event_keys_event", ["event_id"], unique=False)
    op.execute(
        "INSERT INTO event_keys (workspace_id, idempotency_key, event_id)"
        " SELECT workspace_id, idempotency_key, id FROM events WHERE idempotency_key IS NOT NULL"
    )
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table("events") as batch_op:
            batch_op.drop_constraint("uq_events_idempotency", type_="unique")
        with op.batch_alter_table("delivery_events") as batch_op:
            batch_op.create_index("ix_delivery_events_event", ["event_id"], unique=False)
        op.execute(_INDEXES["deliveries"][-1])
        return
    op.execute("ALTER TABLE events DROP CONSTRAINT uq_events_idempotency")
    since, until = _covered()
    # Rows older than DAILY_DAYS share one partition (dropped once all of it is past retention):
    # every partition created here holds a lock per index until this transaction commits, and
    # PostgreSQL's lock table is bounded (a year of daily partitions would overflow it).
    daily_from = floor_boundary(time.time() - DAILY_DAYS * 86400, "day")
    older = [Span(floor_boundary(since, "day"), daily_from)] if since < daily_from else []
    spans = older + to_create(older, daily_from if older else since, until, "day")
    for t in TABLES:
        staged = f"{t.table}__partitioned"
        op.execute(
            f"CREATE TABLE {staged} (LIKE {t.table} INCLUDING DEFAULTS)"
            f" PARTITION BY RANGE ({t.key})"
        )
        for span in spans:
            op.execute(create_partition(t, span, parent=staged))
        _move(t.table, staged, _KEYS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for t in TABLES:
            staged = f"{t.table}__plain"
            op.execute(f"CREATE TABLE {staged} (LIKE {t.table} INCLUDING DEFAULTS)")
            _move(t.table, staged, _PLAIN_KEYS, skip_new=True)
        op.execute("ALTER TABLE deliveries SET (fillfactor = 50)")
        op.execute(
            "ALTER TABLE events ADD CONSTRAINT uq_events_idempotency"
            " UNIQUE (workspace_id, idempotency_key)"
        )
    else:
        with op.batch_alter_table("delivery_events") as batch_op:
            batch_op.drop_index("ix_delivery_events_event")
        op.execute("DROP INDEX ix_deliveries_pending")
        with op.batch_alter_table("events") as batch_op:
            batch_op.create_unique_constraint(
                "uq_events_idempotency", ["workspace_id", "idempotency_key"]
            )
    with op.batch_alter_table("event_keys") as batch_op:
        batch_op.drop_index("ix_event_keys_event")
    op.drop_table("event_keys")


def _move(table: str, staged: str, keys: dict[str, str], *, skip_new: bool = False) -> None:
    """Copy ``table`` into ``staged``, put ``staged`` in its place with its key and indexes."""
    op.execute(f"INSERT INTO {staged} SELECT * FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {staged} RENAME TO {table}")
    op.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({keys[table]})")
    for index in _INDEXES[table]:
        if not (skip_new and any(name in index for name in _NEW)):
            op.execute(index)
    op.execute(f"ANALYZE {table}")


def _covered() -> tuple[float, float]:
    """The time the partitions must cover: from the oldest row's id to three days ahead (or to
    the newest row's, if a clock ran ahead)."""
    now = time.time()
    found = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT (SELECT MIN(id) FROM events) AS e0, (SELECT MAX(id) FROM events) AS e1,"
                " (SELECT MIN(id) FROM deliveries) AS d0, (SELECT MAX(id) FROM deliveries) AS d1,"
                " (SELECT MIN(delivery_id) FROM attempts) AS a0,"
                " (SELECT MAX(delivery_id) FROM attempts) AS a1,"
                " (SELECT MIN(delivery_id) FROM delivery_events) AS w0,"
                " (SELECT MAX(delivery_id) FROM delivery_events) AS w1"
            )
        )
        .one()
    )
    times = [id_time(v) for v in found if v is not None] or [now]
    return min(*times, now), max(horizon(now, "day"), max(times) + 1)
