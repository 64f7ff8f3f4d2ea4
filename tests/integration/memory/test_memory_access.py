"""Access statistics: counted in ``memory_access``, never by rewriting the memory row.

A retrieval counts each memory it returns (how often, and when last) in a narrow table
of its own, so the memory's ~2 kB row with its vector keeps its version (no new entry
in its HNSW and full-text indexes); only the owner's memories are counted, and a
forgotten memory takes its counts with it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from companion.memory import ImportMessage, MemoryService

TEXTS = ("I love hiking in the mountains.", "My sister plays the violin.")


def _msgs(*texts: str) -> list[ImportMessage]:
    return [
        ImportMessage(f"m{i}", "user", "Maya", t, datetime(2026, 5, 1, 9, i, tzinfo=UTC))
        for i, t in enumerate(texts)
    ]


async def _rows(runtime: Any, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    async with runtime.db.session() as session:
        return [tuple(r) for r in (await session.execute(text(sql), params)).all()]


async def test_retrieval_counts_without_a_new_version_of_the_memory(runtime: Any) -> None:
    memory: MemoryService = runtime.memory
    for user in ("u1", "u2"):
        await memory.import_history(user_id=user, conversation="c", messages=_msgs(*TEXTS))
    versions = "SELECT id, xmin::text FROM memories WHERE user_id = :u ORDER BY id"
    before = await _rows(runtime, versions, u="u1")

    found = [await memory.retrieve(user_id="u1", query="hiking in the mountains") for _ in "ab"]
    assert found[0] and [m.id for m in found[0]] == [m.id for m in found[1]]

    counted = await _rows(
        runtime,
        "SELECT memory_id::text, access_count, last_accessed IS NOT NULL FROM memory_access "
        "WHERE user_id = :u ORDER BY memory_id",
        u="u1",
    )
    assert counted == sorted((m.id, 2, True) for m in found[0])
    assert await _rows(runtime, versions, u="u1") == before  # the memory rows kept their version
    assert await _rows(runtime, "SELECT count(*) FROM memory_access WHERE user_id = 'u2'") == [(0,)]

    gone = uuid.UUID(found[0][0].id)
    await memory.forget(user_id="u1", memory_id=gone)
    left = await _rows(runtime, "SELECT memory_id FROM memory_access WHERE user_id = 'u1'")
    assert gone not in {row[0] for row in left}
