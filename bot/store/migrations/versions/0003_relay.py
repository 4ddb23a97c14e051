"""relay: admin chat registration, invites, queue lease tokens, delivery route

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
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
    op.create_table(
        "relay_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("opened_by", sa.String(length=160), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=160), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("relay_conversations", schema=None) as batch_op:
        batch_op.create_index("ix_relay_conversations_citizen", ["channel", "user_id", "closed_at"], unique=False)
    op.create_table(
        "message_refs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["inbound_id"], ["inbound_messages.id"]),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"]),
        sa.ForeignKeyConstraint(["conversation_id"], ["relay_conversations.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "chat_id", "message_id", name="uq_message_refs_message"),
    )
    with op.batch_alter_table("message_refs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_refs_ticket_id"), ["ticket_id"], unique=False)
    with op.batch_alter_table("admin_groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(length=20), server_default="admin", nullable=False))
        batch_op.add_column(sa.Column("title", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("registered_by", sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("forum", sa.Boolean(), server_default="0", nullable=False))
    op.create_table(
        "admin_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "chat_id", "ticket_id", name="uq_admin_topics_ticket"),
    )
    with op.batch_alter_table("admin_topics", schema=None) as batch_op:
        batch_op.create_index("ix_admin_topics_thread", ["channel", "chat_id", "thread_id"], unique=False)
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
    with op.batch_alter_table("admin_topics", schema=None) as batch_op:
        batch_op.drop_index("ix_admin_topics_thread")
    op.drop_table("admin_topics")
    with op.batch_alter_table("admin_groups", schema=None) as batch_op:
        batch_op.drop_column("forum")
        batch_op.drop_column("registered_at")
        batch_op.drop_column("registered_by")
        batch_op.drop_column("title")
        batch_op.drop_column("role")
    op.drop_table("admin_invites")
    with op.batch_alter_table("message_refs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_refs_ticket_id"))
    op.drop_table("message_refs")
    with op.batch_alter_table("relay_conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_relay_conversations_citizen")
    op.drop_table("relay_conversations")
