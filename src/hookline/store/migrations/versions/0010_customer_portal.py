"""the customer portal: its links, the workspaces' portal themes and the audit log

- ``portal_links``: links that open the customer portal for one workspace, stored as the SHA-256
  hash of their token (the token is shown once), with their expiry, read-only flag, the event
  types the customer may see, the feature flags that show them flagged catalog entries, a theme
  and who the vendor says is using it.
- ``portal_themes``: a workspace's default look of the portal (a link's own theme wins).
- ``audit_log``: what was done through the portal (and to its links): who, which link, what,
  when; listed newest first per workspace.

New tables only: no lock on an existing table.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_links",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("read_only", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("event_types", sa.Text(), nullable=True),
        sa.Column("feature_flags", sa.Text(), nullable=True),
        sa.Column("theme", sa.Text(), nullable=True),
        sa.Column("user_name", sa.String(length=256), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash", name="uq_portal_links_hash"),
    )
    with op.batch_alter_table("portal_links") as batch_op:
        batch_op.create_index("ix_portal_links_workspace", ["workspace_id"], unique=False)
        batch_op.create_index("ix_portal_links_expires", ["expires_at"], unique=False)
    op.create_table(
        "portal_themes",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("theme", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(length=256), nullable=False),
        sa.Column("link_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=256), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.create_index("ix_audit_log_workspace", ["workspace_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("portal_themes")
    op.drop_table("portal_links")
