"""trainers' NLU inbox (decisions, reviews) and web accounts

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nlu_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sender_id", sa.String(length=160), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("norm_text", sa.String(length=500), nullable=False),
        sa.Column("intent", sa.String(length=80), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("ranking", sa.JSON(), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=True),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("signal", sa.String(length=32), nullable=True),
        sa.Column("signal_intent", sa.String(length=80), nullable=True),
        sa.Column("signal_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("nlu_decisions", schema=None) as batch_op:
        batch_op.create_index("ix_nlu_decisions_sender_id", ["sender_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_nlu_decisions_norm_text"), ["norm_text"], unique=False)

    op.create_table(
        "nlu_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("norm_text", sa.String(length=500), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("intent", sa.String(length=80), nullable=True),
        sa.Column("split", sa.String(length=10), nullable=True),
        sa.Column("reviewer", sa.String(length=160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("norm_text"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("users")
    op.drop_table("nlu_reviews")
    with op.batch_alter_table("nlu_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nlu_decisions_norm_text"))
        batch_op.drop_index("ix_nlu_decisions_sender_id")
    op.drop_table("nlu_decisions")
