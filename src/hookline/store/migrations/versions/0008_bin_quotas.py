"""inspector quotas: the bytes each capture takes, running totals per bin and per workspace

``bin_requests.size`` is what a capture counts for; ``bins.byte_count`` the sum over the bin's
captures; ``bin_usage`` the bins and bytes of each workspace, whose row a capture locks so that
concurrent captures in any process keep to the workspace's quota. Existing captures are counted
from their stored columns.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SIZES = (
    "UPDATE bin_requests SET size ="
    " LENGTH(method) + LENGTH(path) + LENGTH(query) + LENGTH(headers) + LENGTH(body)"
)
_BIN_TOTALS = (
    "UPDATE bins SET byte_count ="
    " COALESCE((SELECT SUM(r.size) FROM bin_requests r WHERE r.bin_id = bins.id), 0)"
)
_USAGE = (
    "INSERT INTO bin_usage (workspace_id, bin_count, byte_count)"
    " SELECT workspace_id, COUNT(*), SUM(byte_count) FROM bins GROUP BY workspace_id"
)


def upgrade() -> None:
    with op.batch_alter_table("bin_requests") as batch_op:
        batch_op.add_column(sa.Column("size", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("bins") as batch_op:
        batch_op.add_column(
            sa.Column("byte_count", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_table(
        "bin_usage",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("bin_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("byte_count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("workspace_id"),
    )
    for statement in (_SIZES, _BIN_TOTALS, _USAGE):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("bin_usage")
    with op.batch_alter_table("bins") as batch_op:
        batch_op.drop_column("byte_count")
    with op.batch_alter_table("bin_requests") as batch_op:
        batch_op.drop_column("size")
