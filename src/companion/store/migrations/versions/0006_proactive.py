"""Proactive decisions and their delivery; cached activity patterns.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "proactive_decisions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column(
            "evaluated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column(
            "factors", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("should_initiate", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("blocked_by", sa.String(length=50), nullable=True),
        sa.Column("thought", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=30), nullable=True),
        sa.Column("delivery_status", sa.String(length=30), nullable=True),
        sa.Column("delivery_detail", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declined", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=20), server_default="scheduled", nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_proactive_decisions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proactive_decisions")),
    )
    op.create_index(
        "ix_proactive_decisions_sent",
        "proactive_decisions",
        ["user_id", "sent_at"],
        unique=False,
        postgresql_where="sent_at IS NOT NULL",
    )
    op.create_index(
        "ix_proactive_decisions_user_time",
        "proactive_decisions",
        ["user_id", "evaluated_at"],
        unique=False,
    )

    op.create_table(
        "proactive_activity",
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("hour_counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("day_counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("hour_max", sa.Integer(), server_default="0", nullable=False),
        sa.Column("day_max", sa.Integer(), server_default="0", nullable=False),
        sa.Column("samples", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_activity", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_starts_7d", sa.Integer(), server_default="0", nullable=False),
        sa.Column("companion_starts_7d", sa.Integer(), server_default="0", nullable=False),
        sa.Column("avg_conversation_length", sa.Float(), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_proactive_activity_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_proactive_activity")),
    )


def downgrade() -> None:
    op.drop_table("proactive_activity")
    op.drop_index("ix_proactive_decisions_user_time", table_name="proactive_decisions")
    op.drop_index(
        "ix_proactive_decisions_sent",
        table_name="proactive_decisions",
        postgresql_where="sent_at IS NOT NULL",
    )
    op.drop_table("proactive_decisions")
