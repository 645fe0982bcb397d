"""applications, endpoint uids, message channels and tags, the shared catalog, operator keys and
idempotent POSTs: what the Svix-compatible API needs

- ``workspaces`` gain ``uid`` (unique when set), ``metadata``, ``throttle_rate`` (messages per
  second for each of its endpoints that sets none), ``strict_event_types`` and ``updated_at``.
- ``webhooks`` gain ``uid``, unique within the workspace when set.
- ``events`` gain ``channels`` and ``tags`` (JSON lists, NULL when none).
- ``attempts`` gain an index on ``(webhook_id, id)``: a webhook's attempts newest first. On a
  large PostgreSQL database, create it first with ``CREATE INDEX CONCURRENTLY`` to avoid
  holding the attempts table's write lock while it builds.
- ``event_types`` gain versioned ``schemas``, ``archived``, ``deprecated``, ``feature_flags``,
  ``group_name`` and ``enforce``; the instance-wide catalog is stored under workspace ``''``.
- ``operator_keys``: named admin keys, hashed at rest.
- ``idempotency_keys``: the first 2xx answer to a POST with an ``idempotency-key`` header.

Every new column is nullable or has a default: the migration adds no row scan and takes only
the brief catalog lock of ``ALTER TABLE … ADD COLUMN`` on PostgreSQL.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch_op:
        batch_op.add_column(sa.Column("uid", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("metadata", sa.Text(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("throttle_rate", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("strict_event_types", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("updated_at", sa.Float(), nullable=True))
        batch_op.create_index("uq_workspaces_uid", ["uid"], unique=True)
    with op.batch_alter_table("webhooks") as batch_op:
        batch_op.add_column(sa.Column("uid", sa.String(length=256), nullable=True))
        batch_op.create_index("uq_webhooks_uid", ["workspace_id", "uid"], unique=True)
    with op.batch_alter_table("attempts") as batch_op:
        batch_op.create_index("ix_attempts_webhook", ["webhook_id", "id"], unique=False)
    with op.batch_alter_table("events") as batch_op:
        batch_op.add_column(sa.Column("channels", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("tags", sa.Text(), nullable=True))
    with op.batch_alter_table("event_types") as batch_op:
        batch_op.add_column(sa.Column("schemas", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("archived", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("deprecated", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("feature_flags", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("group_name", sa.String(length=256), nullable=True))
        batch_op.add_column(
            sa.Column("enforce", sa.SmallInteger(), nullable=False, server_default="0")
        )
    op.create_table(
        "operator_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash", name="uq_operator_keys_hash"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("idempotency_keys") as batch_op:
        batch_op.create_index("ix_idempotency_expires", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("operator_keys")
    with op.batch_alter_table("event_types") as batch_op:
        for column in ("enforce", "group_name", "feature_flags", "deprecated", "archived"):
            batch_op.drop_column(column)
        batch_op.drop_column("schemas")
    with op.batch_alter_table("attempts") as batch_op:
        batch_op.drop_index("ix_attempts_webhook")
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_column("tags")
        batch_op.drop_column("channels")
    with op.batch_alter_table("webhooks") as batch_op:
        batch_op.drop_index("uq_webhooks_uid")
        batch_op.drop_column("uid")
    with op.batch_alter_table("workspaces") as batch_op:
        batch_op.drop_index("uq_workspaces_uid")
        for column in ("updated_at", "strict_event_types", "throttle_rate", "metadata", "uid"):
            batch_op.drop_column(column)
