"""Full-text index per user: GIN over (user_id, tsv) through btree_gin.

Every full-text search is for one user. With a GIN index over ``tsv`` alone, a query
word's posting list covers every user (a common word in a million-row table is
hundreds of thousands of entries), and the user filter runs on the heap afterwards;
with ``user_id`` in the same GIN index the bitmap holds only that user's matches.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    # IF NOT EXISTS: on a big table an operator may build it beforehand, concurrently.
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_memories_user_tsv ON memories USING gin (user_id, tsv)"
    )
    op.drop_index("ix_memories_tsv", table_name="memories")


def downgrade() -> None:
    op.create_index("ix_memories_tsv", "memories", ["tsv"], unique=False, postgresql_using="gin")
    op.drop_index("ix_memories_user_tsv", table_name="memories")
