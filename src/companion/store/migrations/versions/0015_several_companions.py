"""Several companions per person: each with its own personality state, needs, quirks
and style traits, exactly one of them active; memories may belong to a private one.

Upgrade keeps everyone's state: ``companions`` gets a numeric ``id`` (its new primary
key), every existing companion becomes its person's first and active one, and the
personality rows are tied to it through ``companion_id``. Downgrade keeps each
person's active companion and drops the others (with their own state and private
memories): the old schema has room for one companion per person only.

Revision ID: 0015
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OWNED = ("personality_state", "needs", "quirks", "style_trait_versions")
_TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")


def _fk(table: str) -> str:
    return f"fk_{table}_companion_id_companions"


def upgrade() -> None:
    op.drop_constraint("pk_companions", "companions", type_="primary")
    op.execute("ALTER TABLE companions ADD COLUMN id BIGSERIAL NOT NULL")
    op.create_primary_key("pk_companions", "companions", ["id"])
    # Existing companions become active; new ones start inactive until switched to.
    op.add_column(
        "companions",
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default="true"),
    )
    op.alter_column("companions", "is_active", server_default="false")
    op.add_column(
        "companions",
        sa.Column("is_private", sa.Boolean(), nullable=False, server_default="false"),
    )
    op.create_index("ix_companions_user_id", "companions", ["user_id"])
    op.create_index(
        "ux_companions_active",
        "companions",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("is_active"),
    )
    # A person with personality rows but no companion row (never written by the app,
    # but cheap to cover) gets one from their current state, so no row is orphaned.
    op.execute(
        f"INSERT INTO companions (user_id, {', '.join(_TRAITS)}, is_active) "
        f"SELECT DISTINCT ON (ps.user_id) ps.user_id, {', '.join(f'ps.{t}' for t in _TRAITS)}"
        ", true FROM personality_state ps "
        "WHERE NOT EXISTS (SELECT 1 FROM companions c WHERE c.user_id = ps.user_id) "
        "ORDER BY ps.user_id, ps.is_current DESC, ps.timestamp DESC"
    )
    for table in _OWNED:
        op.add_column(table, sa.Column("companion_id", sa.BigInteger(), nullable=True))
        op.execute(
            f"UPDATE {table} t SET companion_id = c.id FROM companions c "
            "WHERE c.user_id = t.user_id"
        )
        op.execute(f"DELETE FROM {table} WHERE companion_id IS NULL")
        op.alter_column(table, "companion_id", nullable=False)
        op.create_foreign_key(
            _fk(table), table, "companions", ["companion_id"], ["id"], ondelete="CASCADE"
        )
    _personality_indexes(column="companion_id")
    op.add_column("memories", sa.Column("companion_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        _fk("memories"), "memories", "companions", ["companion_id"], ["id"], ondelete="CASCADE"
    )
    op.create_index(
        "ix_memories_companion",
        "memories",
        ["companion_id"],
        postgresql_where=sa.text("companion_id IS NOT NULL"),
    )


def _drop_personality_indexes(*, column: str) -> None:
    op.drop_index("ux_personality_state_current", table_name="personality_state")
    op.drop_index("ix_personality_state_timeline", table_name="personality_state")
    op.drop_index("ux_style_trait_versions_current", table_name="style_trait_versions")
    op.drop_index("ix_style_trait_versions_timeline", table_name="style_trait_versions")
    op.drop_index("ix_needs_urgent", table_name="needs")
    op.drop_index("ix_quirks_strength", table_name="quirks")
    if column == "companion_id":
        op.drop_constraint("uq_needs_user_type", "needs", type_="unique")
        op.drop_constraint("uq_quirks_user_name", "quirks", type_="unique")
        op.drop_index("ix_quirks_user_active", table_name="quirks")
    else:
        op.drop_constraint("uq_needs_companion_type", "needs", type_="unique")
        op.drop_constraint("uq_quirks_companion_name", "quirks", type_="unique")
        op.drop_index("ix_quirks_companion_active", table_name="quirks")


def _personality_indexes(*, column: str) -> None:
    """Re-create the per-owner indexes on ``column`` (``companion_id`` or ``user_id``)."""
    _drop_personality_indexes(column=column)
    current = sa.text("is_current")
    op.create_index(
        "ux_personality_state_current",
        "personality_state",
        [column],
        unique=True,
        postgresql_where=current,
    )
    op.create_index("ix_personality_state_timeline", "personality_state", [column, "timestamp"])
    op.create_index(
        "ux_style_trait_versions_current",
        "style_trait_versions",
        [column],
        unique=True,
        postgresql_where=current,
    )
    op.create_index("ix_style_trait_versions_timeline", "style_trait_versions", [column, "version"])
    op.create_index(
        "ix_needs_urgent",
        "needs",
        [column, "current_level"],
        postgresql_where=sa.text("current_level > 0.8"),
    )
    op.create_index(
        "ix_quirks_strength",
        "quirks",
        [column, sa.literal_column("strength DESC")],
        postgresql_where=sa.text("is_active"),
    )
    owner = "companion" if column == "companion_id" else "user"
    op.create_unique_constraint(f"uq_needs_{owner}_type", "needs", [column, "need_type"])
    op.create_unique_constraint(f"uq_quirks_{owner}_name", "quirks", [column, "name"])
    op.create_index(f"ix_quirks_{owner}_active", "quirks", [column, "is_active"])


def downgrade() -> None:
    # One companion per person: keep the active one (its rows cascade with the others).
    op.execute("DELETE FROM companions WHERE NOT is_active")
    op.drop_index("ix_memories_companion", table_name="memories")
    op.drop_constraint(_fk("memories"), "memories", type_="foreignkey")
    op.drop_column("memories", "companion_id")
    _personality_indexes(column="user_id")
    for table in _OWNED:
        op.drop_constraint(_fk(table), table, type_="foreignkey")
        op.drop_column(table, "companion_id")
    op.drop_index("ux_companions_active", table_name="companions")
    op.drop_index("ix_companions_user_id", table_name="companions")
    op.drop_column("companions", "is_private")
    op.drop_column("companions", "is_active")
    op.drop_constraint("pk_companions", "companions", type_="primary")
    op.drop_column("companions", "id")
    op.create_primary_key("pk_companions", "companions", ["user_id"])
