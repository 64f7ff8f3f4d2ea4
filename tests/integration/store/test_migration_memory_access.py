"""The memory-access migration carries each memory's counts over, and back.

Rows are written with the schema before it (the counts in ``memories``), then the
migration moves them to ``memory_access``; downgrading puts them back.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tests.integration.store.migration_steps import previous_revision, run_sql

from companion.store.migrate import downgrade, upgrade

REVISION = "0018"
SEEN, UNSEEN = uuid.uuid4(), uuid.uuid4()
AT = int(datetime(2026, 11, 1, 10, tzinfo=UTC).timestamp())

_BEFORE = [
    "INSERT INTO users (id) VALUES ('u:ann')",
    "INSERT INTO memories (id, user_id, memory_type, content, content_hash, access_count,"
    f" last_accessed) VALUES ('{SEEN}', 'u:ann', 'episodic', 'Ann likes tea', 'h1', 3,"
    " '2026-11-01T10:00:00+00'),"
    f" ('{UNSEEN}', 'u:ann', 'episodic', 'Ann has a cat', 'h2', 0, NULL)",
]


async def test_access_counts_move_out_of_memories_and_back(scratch_url: str) -> None:
    await upgrade(scratch_url, vector_dimensions=384, revision=previous_revision(REVISION))
    await run_sql(scratch_url, *_BEFORE)

    await upgrade(scratch_url, vector_dimensions=384, revision=REVISION)
    moved = await run_sql(
        scratch_url,
        "SELECT user_id, memory_id::text, access_count, extract(epoch FROM last_accessed)::bigint "
        "FROM memory_access",
    )
    assert moved == [("u:ann", str(SEEN), 3, AT)]
    columns = await run_sql(
        scratch_url,
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'memories' "
        "AND column_name IN ('access_count', 'last_accessed')",
    )
    assert columns == [(0,)]

    await downgrade(scratch_url, vector_dimensions=384, revision=previous_revision(REVISION))
    back = await run_sql(
        scratch_url,
        "SELECT id::text, access_count, extract(epoch FROM last_accessed)::bigint FROM memories "
        "ORDER BY access_count",
    )
    assert back == [(str(UNSEEN), 0, None), (str(SEEN), 3, AT)]
