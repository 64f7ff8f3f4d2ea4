"""Interactions: the record of every turn (DECISIONS.md#two-gin-indexes).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "interactions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "timestamp", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=True),
        sa.Column("user_message_id", sa.BigInteger(), nullable=True),
        sa.Column("reply_message_id", sa.BigInteger(), nullable=True),
        sa.Column("channel", sa.String(length=30), server_default="api", nullable=False),
        sa.Column("user_message", sa.Text(), nullable=True),
        sa.Column("agent_response", sa.Text(), nullable=False),
        sa.Column("personality_snapshot_id", sa.BigInteger(), nullable=True),
        sa.Column("pad_before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("pad_after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("emotion_before", sa.String(length=50), nullable=True),
        sa.Column("emotion_after", sa.String(length=50), nullable=True),
        sa.Column("response_time_ms", sa.Integer(), nullable=True),
        sa.Column("token_count", sa.Integer(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("llm_model_used", sa.String(length=200), nullable=True),
        sa.Column("llm_provider", sa.String(length=100), nullable=True),
        sa.Column("is_proactive", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("proactive_trigger", sa.String(length=100), nullable=True),
        sa.Column("proactive_score", sa.Float(), nullable=True),
        sa.Column("memories_retrieved", sa.Integer(), server_default="0", nullable=False),
        sa.Column("memories_stored", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "memory_ids",
            postgresql.ARRAY(sa.String(length=64)),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("error_occurred", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("fallback_used", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("security_check_passed", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("security_threat_detected", sa.String(length=100), nullable=True),
        sa.Column("security_confidence", sa.Float(), nullable=True),
        sa.Column("user_initiated", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("conversation_length", sa.Integer(), server_default="1", nullable=False),
        sa.Column("user_satisfaction_implied", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["personality_snapshot_id"],
            ["personality_state.id"],
            name=op.f("fk_interactions_personality_snapshot_id_personality_state"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reply_message_id"],
            ["messages.id"],
            name=op.f("fk_interactions_reply_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["conversations.id"],
            name=op.f("fk_interactions_session_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_interactions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_message_id"],
            ["messages.id"],
            name=op.f("fk_interactions_user_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
    )
    op.create_index(
        "ix_interactions_pad_after",
        "interactions",
        ["pad_after"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_interactions_pad_before",
        "interactions",
        ["pad_before"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_interactions_proactive",
        "interactions",
        ["user_id", "is_proactive", "timestamp"],
        unique=False,
        postgresql_where="is_proactive",
    )
    op.create_index("ix_interactions_session", "interactions", ["session_id"], unique=False)
    op.create_index(
        "ix_interactions_user_recent", "interactions", ["user_id", "timestamp"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_interactions_user_recent", table_name="interactions")
    op.drop_index("ix_interactions_session", table_name="interactions")
    op.drop_index(
        "ix_interactions_proactive", table_name="interactions", postgresql_where="is_proactive"
    )
    op.drop_index("ix_interactions_pad_before", table_name="interactions", postgresql_using="gin")
    op.drop_index("ix_interactions_pad_after", table_name="interactions", postgresql_using="gin")
    op.drop_table("interactions")
