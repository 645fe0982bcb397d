"""events keep the W3C trace context of their publish

- ``events`` gain ``traceparent``: the ``traceparent`` of the publish's span when the process
  that stored the event exports traces (``docs/operations.md``, "Traces"), so that the worker,
  in any process, links and parents each attempt's span to it; NULL otherwise.

One nullable column without a default: no row scan, no table rewrite, only the brief catalog
lock of ``ALTER TABLE … ADD COLUMN`` on PostgreSQL.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch_op:
        batch_op.add_column(sa.Column("traceparent", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_column("traceparent")
