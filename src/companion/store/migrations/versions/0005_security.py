"""Security incidents (the Discord design's shape).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "security_incidents",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("incident_type", sa.String(length=50), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("detected_content", sa.Text(), nullable=False),
        sa.Column("detection_method", sa.String(length=50), nullable=True),
        sa.Column("threat_indicators", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("action", sa.String(length=30), nullable=True),
        sa.Column("response_generated", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("response_content", sa.Text(), nullable=True),
        sa.Column("user_warned", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("is_repeat_offense", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("previous_incident_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("escalation_level", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "detected_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("interaction_id", sa.BigInteger(), nullable=True),
        sa.Column("admin_reviewed", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("admin_notes", sa.Text(), nullable=True),
        sa.Column("false_positive", sa.Boolean(), nullable=True),
        sa.CheckConstraint(
            "severity IN ('low','medium','high','critical')",
            name=op.f("ck_security_incidents_severity_valid"),
        ),
        sa.CheckConstraint(
            "confidence BETWEEN 0 AND 1", name=op.f("ck_security_incidents_confidence_range")
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_security_incidents_interaction_id_interactions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_security_incidents_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_incidents")),
    )
    op.create_index(
        "ix_security_incidents_threats",
        "security_incidents",
        ["incident_type"],
        unique=False,
        postgresql_where="confidence > 0.6",
    )
    op.create_index(
        "ix_security_incidents_user_time",
        "security_incidents",
        ["user_id", "detected_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_security_incidents_user_time", table_name="security_incidents")
    op.drop_index(
        "ix_security_incidents_threats",
        table_name="security_incidents",
        postgresql_where="confidence > 0.6",
    )
    op.drop_table("security_incidents")
