"""claims: a partial index of the disabled webhooks

Every claim reads the ids of disabled webhooks to leave their deliveries out; without an index
that read scanned the whole webhooks table (noticeable with thousands of webhooks).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_webhooks_disabled",
        "webhooks",
        ["id"],
        sqlite_where=sa.text("enabled = 0"),
        postgresql_where=sa.text("enabled = 0"),
    )


def downgrade() -> None:
    op.drop_index("ix_webhooks_disabled", table_name="webhooks")
