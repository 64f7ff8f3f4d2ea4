"""Memories carry their conversational context for search (neighbour turns, date).

The full-text vector becomes the turn itself (weight A) plus its context (weight B),
so a BM25 over it can count words of the turn more than words of its neighbours.

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WEIGHTED = (
    "setweight(to_tsvector('english', content), 'A') || "
    "setweight(to_tsvector('english', coalesce(context, '')), 'B')"
)


def upgrade() -> None:
    op.add_column("memories", sa.Column("context", sa.Text(), nullable=True))
    op.drop_index("ix_memories_tsv", table_name="memories")
    op.drop_column("memories", "tsv")
    op.execute(
        f"ALTER TABLE memories ADD COLUMN tsv tsvector GENERATED ALWAYS AS ({_WEIGHTED}) STORED"
    )
    op.create_index("ix_memories_tsv", "memories", ["tsv"], unique=False, postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_memories_tsv", table_name="memories")
    op.drop_column("memories", "tsv")
    op.execute(
        "ALTER TABLE memories ADD COLUMN tsv tsvector "
        "GENERATED ALWAYS AS (to_tsvector('english', content)) STORED"
    )
    op.create_index("ix_memories_tsv", "memories", ["tsv"], unique=False, postgresql_using="gin")
    op.drop_column("memories", "context")
