"""flow triggers, aggregation windows, entity state, inspector bins

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("flows") as batch_op:
        batch_op.add_column(sa.Column("config", sa.Text(), nullable=False, server_default="{}"))
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.add_column(
            sa.Column("batch_size", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "delivery_events",
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", "position"),
    )
    op.create_table(
        "entities",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "path", name="pk_entities"),
    )
    op.create_table(
        "bins",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("request_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bins_ws", "bins", ["workspace_id"])
    op.create_table(
        "bin_requests",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("bin_id", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bin_requests_bin", "bin_requests", ["bin_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_bin_requests_bin", table_name="bin_requests")
    op.drop_table("bin_requests")
    op.drop_index("ix_bins_ws", table_name="bins")
    op.drop_table("bins")
    op.drop_table("entities")
    op.drop_table("delivery_events")
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_column("batch_size")
    with op.batch_alter_table("flows") as batch_op:
        batch_op.drop_column("config")
