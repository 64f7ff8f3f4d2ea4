"""Nightly memory jobs and degraded retrieval, on the real database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update

from companion.llm.base import EmbedTask
from companion.memory import ImportMessage, MemoryService
from companion.memory.jobs import conflict_scan, consolidate, recency_decay, retention_cleanup
from companion.memory.models import Memory, MemoryAccess
from companion.memory.retrieval import Retriever


def _msgs(*texts: str, days_ago: int = 1) -> list[ImportMessage]:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    return [
        ImportMessage(f"{days_ago}-{i}", "user", "Ana", t, at + timedelta(minutes=i))
        for i, t in enumerate(texts)
    ]


async def test_nightly_jobs_are_idempotent(runtime: Any) -> None:
    memory: MemoryService = runtime.memory
    garden = (
        "My tomato plants in the garden are growing fast.",
        "I love the tomatoes growing in my garden.",
        "My garden tomatoes are growing well.",
        "Quantum computing lecture was confusing.",
    )
    await memory.import_history(user_id="u1", conversation="c", messages=_msgs(*garden))
    first = await consolidate(runtime.db, fast=runtime.models.fast)
    assert first["semantic_created"] == 1
    assert (await consolidate(runtime.db))["semantic_created"] == 0
    async with runtime.db.session() as session:
        summary = await session.scalar(
            select(Memory).where(Memory.extra["method"].astext == "consolidation")
        )
    assert summary is not None and len(summary.source_memory_ids) == 3
    assert summary.importance <= 1.0

    retrieved = await memory.retrieve(user_id="u1", query="tomatoes in the garden")
    assert retrieved
    decayed = await recency_decay(runtime.db, now=datetime.now(UTC) + timedelta(days=30))
    assert decayed["updated"] == len(retrieved)  # the retrieved memories' rows, no others
    async with runtime.db.session() as session:
        scores = (await session.scalars(select(MemoryAccess.recency_score))).all()
    assert len(scores) == len(retrieved) and all(0.49 < s < 0.51 for s in scores)
    again = await recency_decay(runtime.db, now=datetime.now(UTC) + timedelta(days=60))
    assert again["updated"] == len(retrieved)
    async with runtime.db.session() as session:
        scores = (await session.scalars(select(MemoryAccess.recency_score))).all()
    assert all(0.24 < s < 0.26 for s in scores)

    # Two current facts for one key (e.g. written concurrently): the scan closes the older.
    async with runtime.db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO memories (id, user_id, memory_type, content, content_hash, fact_key, "
                "valid_from) VALUES (gen_random_uuid(), 'u1', 'semantic', 'Ana lives in Rome', "
                "'h', 'ana|lives_in', now() - interval '2 days'), (gen_random_uuid(), 'u1', "
                "'semantic', 'Ana lives in Oslo', 'h', 'ana|lives_in', now())"
            )
        )
    assert (await conflict_scan(runtime.db))["superseded"] == 1
    assert (await conflict_scan(runtime.db))["superseded"] == 0
    current = await memory.history(user_id="u1", fact_key="ana|lives_in")
    assert [m.content for m in current if m.invalid_at is None] == ["Ana lives in Oslo"]

    async with runtime.db.transaction() as session:
        await session.execute(text("UPDATE users SET data_retention_days = 30 WHERE id = 'u1'"))
        await session.execute(
            update(Memory)
            .where(Memory.content.like("%Quantum%"))
            .values(created_at=datetime.now(UTC) - timedelta(days=40))
        )
    assert (await retention_cleanup(runtime.db))["deleted"] == 1
    assert (await retention_cleanup(runtime.db))["deleted"] == 0


class _BrokenEmbedder:
    model_id = "broken"
    dimensions = 384

    async def embed(self, texts: Sequence[str], *, task: EmbedTask) -> list[list[float]]:
        raise RuntimeError("embedder down")


async def test_embedder_down_falls_back_to_keywords(runtime: Any) -> None:
    memory: MemoryService = runtime.memory
    await memory.import_history(
        user_id="u1", conversation="c", messages=_msgs("My locker code is Zephyr.", "Nice day.")
    )
    hits = await Retriever(runtime.db, _BrokenEmbedder()).search(user_id="u1", query="zephyr", k=3)
    assert hits and "Zephyr" in hits[0].content and hits[0].similarity is None
