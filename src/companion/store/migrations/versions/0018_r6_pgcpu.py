"""Memory access statistics in a narrow table of their own (``memory_access``).

Each turn counted the memories it retrieved with an UPDATE of ``memories``: a new
version of a ~2 kB row and, when its page had no room (a non-HOT update), an entry in
each of the table's eight indexes, the HNSW graph among them (an HNSW insert walks
hundreds of graph pages), with the whole row in the WAL. The counts now live in
``memory_access`` (user, memory, count, last access), a row per retrieved memory, with
free room on each page so its updates stay HOT: no index entry, a small WAL record.
The rows carry over; ``memories`` loses the two columns.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "memory_access",
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("memory_id", sa.UUID(), nullable=False),
        sa.Column("access_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_accessed", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["memory_id"],
            ["memories.id"],
            name=op.f("fk_memory_access_memory_id_memories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_memory_access_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "memory_id", name=op.f("pk_memory_access")),
        postgresql_with={"fillfactor": 80},
    )
    op.execute(
        "INSERT INTO memory_access (user_id, memory_id, access_count, last_accessed) "
        "SELECT user_id, id, access_count, coalesce(last_accessed, created_at) FROM memories "
        "WHERE access_count > 0 OR last_accessed IS NOT NULL"
    )
    op.drop_column("memories", "access_count")
    op.drop_column("memories", "last_accessed")


def downgrade() -> None:
    op.add_column(
        "memories",
        sa.Column("access_count", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column("memories", sa.Column("last_accessed", sa.DateTime(timezone=True)))
    op.execute(
        "UPDATE memories m SET access_count = a.access_count, last_accessed = a.last_accessed "
        "FROM memory_access a WHERE a.memory_id = m.id AND a.user_id = m.user_id"
    )
    op.drop_table("memory_access")
