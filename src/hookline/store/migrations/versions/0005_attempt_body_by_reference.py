"""attempts: a request body equal to the event's body is kept once, with the event

Most attempts send their event's body unchanged (no template, no form encoding). Storing it again
with every attempt doubled what each delivery wrote; such attempts now leave ``request_body``
NULL and set ``request_body_is_event``, and reading the attempt takes the body from the event.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "attempts",
        sa.Column("request_body_is_event", sa.SmallInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    # Put the bodies back before the flag that says where they are goes away.
    op.execute(
        "UPDATE attempts SET request_body = (SELECT e.body FROM deliveries d"
        " JOIN events e ON e.id = d.event_id WHERE d.id = attempts.delivery_id)"
        " WHERE request_body_is_event = 1"
    )
    with op.batch_alter_table("attempts") as batch:
        batch.drop_column("request_body_is_event")
