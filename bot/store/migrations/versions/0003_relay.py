"""relay: admin chat registration, invites, queue lease tokens, delivery route

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("opd_id", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_chat", sa.String(length=160), nullable=True),
        sa.ForeignKeyConstraint(["opd_id"], ["opds.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    with op.batch_alter_table("admin_groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(length=20), server_default="admin", nullable=False))
        batch_op.add_column(sa.Column("title", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("registered_by", sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("internal", sa.Boolean(), server_default="0", nullable=False))
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_token", sa.String(length=36), nullable=True))
        batch_op.create_index("ix_inbound_sender_status", ["sender_id", "status", "id"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_token", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("via", sa.String(length=12), nullable=True))
        batch_op.create_index("ix_outbox_chat_status", ["channel", "chat_id", "status", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_chat_status")
        batch_op.drop_column("via")
        batch_op.drop_column("lease_token")
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_sender_status")
        batch_op.drop_column("lease_token")
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.drop_column("internal")
    with op.batch_alter_table("admin_groups", schema=None) as batch_op:
        batch_op.drop_column("registered_at")
        batch_op.drop_column("registered_by")
        batch_op.drop_column("title")
        batch_op.drop_column("role")
    op.drop_table("admin_invites")
