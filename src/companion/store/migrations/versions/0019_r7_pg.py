"""Indexes for the memory work's read of a turn; the recency score leaves ``memories``.

The memory work asks, before it writes a turn's episodic memory, whether one with the
turn's user message among its sources exists (``source_message_ids @> ARRAY[id]``).
With no index on the array, PostgreSQL read every episodic memory of the user through
``(user_id, memory_type, created_at)`` and checked each row's array: ~300 pages a call
for a user with 300 episodic memories, linear in their number. A GIN index
on the array of the episodic memories finds the one row by its message id (message ids
are unique across users, so the array alone is selective; ``user_id`` is checked on
that row). ``fastupdate`` is off: every insert is one entry (an episodic memory has one
source message), and the check that follows a turn would otherwise read the whole
pending list of new entries each time.

The same statement reads the conversation's line before the turn, skipping the lines of
turns flagged by security (``recent.MESSAGE_BEFORE``). For each message it looked at,
PostgreSQL read every interaction of the conversation through ``(session_id)`` to find
the flagged ones: quadratic in the conversation's length (~3,400 pages a turn after
~50 turns, 5.7 ms). Flagged turns are rare: a partial index of them answers each probe
from one page, usually empty.

The nightly recency job rewrote every memory row to set ``recency_score``: a ~2 kB row
with its vector, and, when its page had no room for the new version, an entry in each
of the table's indexes, the HNSW graph among them. The score depends only on time and
the last access, and nothing ranks by it (retrieval weighs recency by the memory's age
at read time). It now lives beside the last access in ``memory_access`` (fillfactor
80, its updates stay on their page): the job updates those narrow rows only, and a
memory never retrieved has no row (its recency is that of its age). The scores of
retrieved memories carry over; downgrading computes the others as the job did.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # IF NOT EXISTS: on a big table an operator may build it beforehand, concurrently.
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_memories_episodic_sources ON memories "
        "USING gin (source_message_ids) WITH (fastupdate = off) "
        "WHERE memory_type = 'episodic'"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_interactions_flagged ON interactions (session_id) "
        "WHERE NOT security_check_passed"
    )
    op.add_column(
        "memory_access",
        sa.Column("recency_score", sa.Float(), server_default="1.0", nullable=False),
    )
    op.execute(
        "UPDATE memory_access a SET recency_score = m.recency_score FROM memories m "
        "WHERE m.id = a.memory_id AND m.user_id = a.user_id"
    )
    op.drop_column("memories", "recency_score")


def downgrade() -> None:
    op.add_column(
        "memories",
        sa.Column("recency_score", sa.Float(), server_default="1.0", nullable=False),
    )
    # What the nightly job would have written: from the last access, else the creation.
    op.execute(
        "UPDATE memories m SET recency_score = coalesce((SELECT a.recency_score "
        "FROM memory_access a WHERE a.user_id = m.user_id AND a.memory_id = m.id), "
        "power(0.5, GREATEST(0, EXTRACT(EPOCH FROM (now() - m.created_at)) / 86400.0) / 30.0))"
    )
    op.drop_column("memory_access", "recency_score")
    op.drop_index("ix_interactions_flagged", table_name="interactions")
    op.drop_index("ix_memories_episodic_sources", table_name="memories")
