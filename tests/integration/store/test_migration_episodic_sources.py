"""The migration that indexes episodic memories' source messages and flagged turns and
moves the recency score out of ``memories``: up with the data carried over, the
"already stored" check served by its index, and back down.
"""

from __future__ import annotations

import uuid

from tests.integration.store.migration_steps import previous_revision, run_sql

from companion.store.migrate import downgrade, upgrade

REVISION = "0019"
SEEN, UNSEEN = uuid.uuid4(), uuid.uuid4()

_BEFORE = [
    "INSERT INTO users (id) VALUES ('u:ann'), ('u:bob')",
    "INSERT INTO memories (id, user_id, memory_type, content, content_hash, recency_score,"
    f" source_message_ids, created_at) VALUES ('{SEEN}', 'u:ann', 'episodic', 'Ann likes tea',"
    " 'h1', 0.25, '{7}', now() - interval '60 days'),"
    f" ('{UNSEEN}', 'u:ann', 'episodic', 'Ann has a cat', 'h2', 1.0, '{{8}}',"
    " now() - interval '30 days')",
    "INSERT INTO memory_access (user_id, memory_id, access_count, last_accessed) VALUES"
    f" ('u:ann', '{SEEN}', 2, now() - interval '60 days')",
    # Many episodic memories of two users, as the memory work leaves them: one source
    # message each, ids unique across users.
    "INSERT INTO memories (id, user_id, memory_type, content, content_hash, source_message_ids)"
    " SELECT gen_random_uuid(), CASE WHEN g % 2 = 0 THEN 'u:ann' ELSE 'u:bob' END,"
    " 'episodic', 'turn ' || g, 'h' || g, ARRAY[g::bigint] FROM generate_series(100, 3099) g",
    "ANALYZE memories",
]

#: The memory work's "is the turn's episodic memory stored?" (``memory.writer``).
_STORED = (
    "SELECT 1 FROM memories WHERE user_id = 'u:ann' AND memory_type = 'episodic'"
    " AND source_message_ids @> ARRAY[2048::bigint]"
)


async def test_sources_indexed_and_recency_moved_and_back(scratch_url: str) -> None:
    await upgrade(scratch_url, vector_dimensions=384, revision=previous_revision(REVISION))
    await run_sql(scratch_url, *_BEFORE)
    scan = await run_sql(scratch_url, f"EXPLAIN {_STORED}")
    assert "ix_memories_episodic_sources" not in str(scan)

    await upgrade(scratch_url, vector_dimensions=384, revision=REVISION)
    options = await run_sql(
        scratch_url,
        "SELECT reloptions::text, pg_get_indexdef(indexrelid) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE c.relname = 'ix_memories_episodic_sources'",
    )
    assert options and options[0][0] == "{fastupdate=off}"
    assert "gin (source_message_ids)" in str(options[0][1])
    plan = await run_sql(scratch_url, "ANALYZE memories", f"EXPLAIN {_STORED}")
    assert "ix_memories_episodic_sources" in str(plan)
    assert await run_sql(scratch_url, _STORED) == [(1,)]
    flagged = await run_sql(
        scratch_url, "SELECT pg_get_indexdef('ix_interactions_flagged'::regclass)"
    )
    assert "WHERE (NOT security_check_passed)" in str(flagged)
    moved = await run_sql(scratch_url, "SELECT memory_id::text, recency_score FROM memory_access")
    assert moved == [(str(SEEN), 0.25)]
    columns = await run_sql(
        scratch_url,
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'memories' "
        "AND column_name = 'recency_score'",
    )
    assert columns == [(0,)]

    await downgrade(scratch_url, vector_dimensions=384, revision=previous_revision(REVISION))
    back = await run_sql(
        scratch_url,
        "SELECT id::text, round(recency_score::numeric, 2)::float FROM memories"
        f" WHERE id IN ('{SEEN}', '{UNSEEN}') ORDER BY recency_score",
    )
    # The retrieved memory's score as it was; the other's from its age (30 days: 0.5).
    assert back == [(str(SEEN), 0.25), (str(UNSEEN), 0.5)]
    gone = await run_sql(
        scratch_url,
        "SELECT count(*) FROM pg_class WHERE relname IN "
        "('ix_memories_episodic_sources', 'ix_interactions_flagged')",
    )
    assert gone == [(0,)]
