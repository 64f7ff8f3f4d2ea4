"""Personality: versioned state (one current row per user), quirks, needs, style-trait versions.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "personality_state",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "timestamp", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("openness", sa.Double(), nullable=False),
        sa.Column("conscientiousness", sa.Double(), nullable=False),
        sa.Column("extraversion", sa.Double(), nullable=False),
        sa.Column("agreeableness", sa.Double(), nullable=False),
        sa.Column("neuroticism", sa.Double(), nullable=False),
        sa.Column("pleasure", sa.Float(), nullable=False),
        sa.Column("arousal", sa.Float(), nullable=False),
        sa.Column("dominance", sa.Float(), nullable=False),
        sa.Column(
            "pad_baseline",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default='{"pleasure": 0.0, "arousal": 0.0, "dominance": 0.0}',
            nullable=False,
        ),
        sa.Column("emotion_label", sa.String(length=50), nullable=True),
        sa.Column("is_current", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=True),
        sa.Column("trigger_event", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "agreeableness BETWEEN 0 AND 1", name=op.f("ck_personality_state_agreeableness_range")
        ),
        sa.CheckConstraint(
            "arousal BETWEEN -1 AND 1", name=op.f("ck_personality_state_arousal_range")
        ),
        sa.CheckConstraint(
            "conscientiousness BETWEEN 0 AND 1",
            name=op.f("ck_personality_state_conscientiousness_range"),
        ),
        sa.CheckConstraint(
            "dominance BETWEEN -1 AND 1", name=op.f("ck_personality_state_dominance_range")
        ),
        sa.CheckConstraint(
            "extraversion BETWEEN 0 AND 1", name=op.f("ck_personality_state_extraversion_range")
        ),
        sa.CheckConstraint(
            "neuroticism BETWEEN 0 AND 1", name=op.f("ck_personality_state_neuroticism_range")
        ),
        sa.CheckConstraint(
            "openness BETWEEN 0 AND 1", name=op.f("ck_personality_state_openness_range")
        ),
        sa.CheckConstraint(
            "pleasure BETWEEN -1 AND 1", name=op.f("ck_personality_state_pleasure_range")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_personality_state_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personality_state")),
    )
    op.create_index(
        "ix_personality_state_pad_baseline",
        "personality_state",
        ["pad_baseline"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_personality_state_timeline", "personality_state", ["user_id", "timestamp"], unique=False
    )
    op.create_index(
        "ux_personality_state_current",
        "personality_state",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("is_current"),
    )
    op.create_table(
        "quirks",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("strength", sa.Float(), server_default="0.0", nullable=False),
        sa.Column(
            "first_observed",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_reinforced",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_observed", sa.DateTime(timezone=True), nullable=True),
        sa.Column("observation_count", sa.Integer(), server_default="1", nullable=False),
        sa.Column("reinforcement_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("decay_rate", sa.Float(), server_default="0.05", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("confidence", sa.Float(), server_default="0.1", nullable=False),
        sa.Column(
            "examples", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
        sa.Column(
            "context_triggers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.CheckConstraint(
            "category IN ('speech_pattern','behavior','preference')",
            name=op.f("ck_quirks_category_valid"),
        ),
        sa.CheckConstraint("strength BETWEEN 0 AND 1", name=op.f("ck_quirks_strength_range")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_quirks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quirks")),
        sa.UniqueConstraint("user_id", "name", name="uq_quirks_user_name"),
    )
    op.create_index(
        "ix_quirks_strength",
        "quirks",
        ["user_id", sa.literal_column("strength DESC")],
        unique=False,
        postgresql_where="is_active",
    )
    op.create_index("ix_quirks_user_active", "quirks", ["user_id", "is_active"], unique=False)
    op.create_table(
        "needs",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("need_type", sa.String(length=20), nullable=False),
        sa.Column("current_level", sa.Float(), server_default="0.5", nullable=False),
        sa.Column("baseline_level", sa.Float(), server_default="0.5", nullable=False),
        sa.Column("decay_rate", sa.Float(), server_default="0.02", nullable=False),
        sa.Column("satisfaction_rate", sa.Float(), server_default="0.1", nullable=False),
        sa.Column(
            "satisfaction_pattern",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("trigger_threshold", sa.Float(), server_default="0.8", nullable=False),
        sa.Column("influence_on_mood", sa.Float(), server_default="0.1", nullable=False),
        sa.Column("proactive_weight", sa.Float(), server_default="1.0", nullable=False),
        sa.Column("satisfaction_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_satisfied", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "last_updated",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "need_type IN ('social','intellectual','creative','rest','validation')",
            name=op.f("ck_needs_need_type_valid"),
        ),
        sa.CheckConstraint("current_level BETWEEN 0 AND 1", name=op.f("ck_needs_level_range")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_needs_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_needs")),
        sa.UniqueConstraint("user_id", "need_type", name="uq_needs_user_type"),
    )
    op.create_index(
        "ix_needs_urgent",
        "needs",
        ["user_id", "current_level"],
        unique=False,
        postgresql_where="current_level > 0.8",
    )
    op.create_table(
        "style_trait_versions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("warmth", sa.Integer(), nullable=False),
        sa.Column("curiosity", sa.Integer(), nullable=False),
        sa.Column("assertiveness", sa.Integer(), nullable=False),
        sa.Column("humor", sa.Integer(), nullable=False),
        sa.Column("emotional_depth", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=30), server_default="initial", nullable=False),
        sa.Column(
            "diff", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("is_current", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_style_trait_versions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_style_trait_versions")),
    )
    op.create_index(
        "ix_style_trait_versions_timeline",
        "style_trait_versions",
        ["user_id", "version"],
        unique=False,
    )
    op.create_index(
        "ux_style_trait_versions_current",
        "style_trait_versions",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("is_current"),
    )


def downgrade() -> None:
    op.drop_index(
        "ux_style_trait_versions_current",
        table_name="style_trait_versions",
        postgresql_where=sa.text("is_current"),
    )
    op.drop_index("ix_style_trait_versions_timeline", table_name="style_trait_versions")
    op.drop_table("style_trait_versions")
    op.drop_index("ix_needs_urgent", table_name="needs", postgresql_where="current_level > 0.8")
    op.drop_table("needs")
    op.drop_index("ix_quirks_user_active", table_name="quirks")
    op.drop_index("ix_quirks_strength", table_name="quirks", postgresql_where="is_active")
    op.drop_table("quirks")
    op.drop_index(
        "ux_personality_state_current",
        table_name="personality_state",
        postgresql_where=sa.text("is_current"),
    )
    op.drop_index("ix_personality_state_timeline", table_name="personality_state")
    op.drop_index(
        "ix_personality_state_pad_baseline", table_name="personality_state", postgresql_using="gin"
    )
    op.drop_table("personality_state")
