"""sla actions: every reminder, escalation, digest and automatic close, recorded once

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sla_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("deadline", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "subject", "deadline", name="uq_sla_actions_once"),
    )
    with op.batch_alter_table("sla_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_actions_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sla_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_actions_ticket_id"))
    op.drop_table("sla_actions")
