"""the broker destinations a customer-portal link allows

- ``portal_links`` gain ``destination_kinds``: the broker kinds (``rabbitmq``, ``nats``,
  ``redis``, ``mqtt``) whose endpoints the link's customer may see and create besides HTTP
  webhooks, as a JSON list; NULL (every link made before) allows HTTP endpoints only.

One nullable column: no row scan, only the brief catalog lock of ``ALTER TABLE … ADD COLUMN``
on PostgreSQL.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("portal_links") as batch_op:
        batch_op.add_column(sa.Column("destination_kinds", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("portal_links") as batch_op:
        batch_op.drop_column("destination_kinds")
