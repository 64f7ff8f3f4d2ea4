"""Cheaper search indexes: an index-only size count and a short GIN pending list.

Every search counts the user's current rows the active companion may see (up to the
exact-search threshold) to choose its path. With ``user_id`` alone in the partial
index, each counted row's ``companion_id`` is read from the table: for a user with
100k memories, 5,000 rows over ~1,250 pages, 2.4 ms from shared buffers and ~10 ms
when they are not. With ``companion_id`` in the index the count is an index-only scan
(8 index pages for 5,000 rows). The new index serves every query the old one did (same
leading column, same predicate), so the old one goes.

The full-text GIN index keeps new entries in a pending list until it is merged into
the index (by VACUUM, or by the insert that finds it over ``gin_pending_list_limit``,
4 MB by default), and every search reads the whole list: on the 1M-row benchmark a
103-page list cost a small user's full-text probe 15 ms instead of 0.03 ms (load ~8).
With a limit of 64 kB (the least allowed) a search reads at most 8 pages, and inserts
still go through the list in batches.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # IF NOT EXISTS: on a big table an operator may build it beforehand, concurrently.
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_memories_user_visible ON memories "
        "(user_id, companion_id) WHERE invalid_at IS NULL"
    )
    op.drop_index("ix_memories_user_current", table_name="memories")
    op.execute("ALTER INDEX ix_memories_user_tsv SET (gin_pending_list_limit = 64)")


def downgrade() -> None:
    op.execute("ALTER INDEX ix_memories_user_tsv RESET (gin_pending_list_limit)")
    op.create_index(
        "ix_memories_user_current", "memories", ["user_id"], postgresql_where="invalid_at IS NULL"
    )
    op.drop_index("ix_memories_user_visible", table_name="memories")
