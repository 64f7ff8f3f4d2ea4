"""Access statistics: counted in ``memory_access``, never by rewriting the memory row.

A retrieval counts each memory it returns (how often, and when last) in a narrow table
of its own, so the memory's ~2 kB row with its vector keeps its version (no new entry
in its HNSW and full-text indexes); only the owner's memories are counted, and a
forgotten memory takes its counts with it. The nightly recency job writes there too:
it leaves every memory row alone, and retrieval ranks exactly as before it ran.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from companion.memory import ImportMessage, MemoryService
from companion.memory.jobs import recency_decay
from companion.memory.search import Hit

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


def _ranking_inputs(hits: list[Hit]) -> list[tuple[Any, ...]]:
    """What ranking reads of each candidate, and what it made of them."""
    return [
        (h.id, h.importance, h.created_at, h.similarity, h.text_rank, h.score, tuple(h.reasons))
        for h in hits
    ]


async def test_the_recency_job_leaves_memories_and_ranking_alone(runtime: Any) -> None:
    memory: MemoryService = runtime.memory
    older = [
        ImportMessage(f"o{i}", "user", "Maya", t, datetime(2025, 11, 1, 9, i, tzinfo=UTC))
        for i, t in enumerate(("I went hiking with my sister.", "The violin concert was long."))
    ]
    await memory.import_history(user_id="u1", conversation="c", messages=_msgs(*TEXTS))
    await memory.import_history(user_id="u1", conversation="old", messages=older)
    query = "hiking with my sister and the violin"
    counted = await memory.retrieve(user_id="u1", query=query, k=4)  # access rows
    assert len(counted) >= 2
    now = datetime.now(UTC)
    before = await memory.retriever.search(user_id="u1", query=query, k=4, now=now)
    assert len(before) >= 2
    versions = "SELECT id, xmin::text FROM memories WHERE user_id = :u ORDER BY id"
    rows_before = await _rows(runtime, versions, u="u1")

    decayed = await recency_decay(runtime.db, now=now + timedelta(days=30))
    assert decayed["updated"] == len(counted)  # the memories retrieved, no others
    scores = await _rows(runtime, "SELECT recency_score FROM memory_access WHERE user_id = 'u1'")
    assert len(scores) == len(counted) and all(0.49 < s[0] < 0.51 for s in scores)

    after = await memory.retriever.search(user_id="u1", query=query, k=4, now=now)
    assert _ranking_inputs(after) == _ranking_inputs(before)
    assert await _rows(runtime, versions, u="u1") == rows_before  # no memory row rewritten


async def test_a_retrieval_and_its_access_statistics_share_one_connection(runtime: Any) -> None:
    """The search's statement and the counting of what it found take one pooled
    connection (a checkout and return cost about as much CPU as a short statement)."""
    from sqlalchemy import event

    memory: MemoryService = runtime.memory
    await memory.import_history(user_id="u3", conversation="c", messages=_msgs(*TEXTS))
    await memory.retrieve(user_id="u3", query="hiking in the mountains")  # warm caches
    pool = runtime.db.engine.sync_engine.pool
    checkouts: list[object] = []

    def count(*args: object) -> None:
        checkouts.append(args[0])

    event.listen(pool, "checkout", count)
    try:
        found = await memory.retrieve(user_id="u3", query="hiking in the mountains")
    finally:
        event.remove(pool, "checkout", count)
    assert found  # so the access statistics were written
    counted = await _rows(
        runtime, "SELECT sum(access_count) FROM memory_access WHERE user_id = 'u3'"
    )
    assert counted == [(2 * len(found),)]
    assert len(checkouts) == 1
