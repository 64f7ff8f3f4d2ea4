"""Rebuild every memory vector with the configured embedder (``companion reembed``).

Switching embedders changes the vector space and maybe the dimension: old vectors are
meaningless next to new ones. When the dimension differs, the column is retyped (the
HNSW index is dropped first and rebuilt at the end).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text

from companion.llm.base import Embedder
from companion.memory.context import embedding_text
from companion.store.database import Database

__all__ = ["column_dimensions", "reembed_all"]

_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_memories_embedding_hnsw ON memories "
    "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
)


async def column_dimensions(db: Database) -> int:
    """The dimension the ``memories.embedding`` column is declared with."""
    async with db.session() as session:
        mod = await session.scalar(
            text(
                "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'memories'::regclass "
                "AND attname = 'embedding'"
            )
        )
    return int(mod or 0)


async def _retype(db: Database, dimensions: int) -> None:
    async with db.transaction() as session:
        await session.execute(text("DROP INDEX IF EXISTS ix_memories_embedding_hnsw"))
        await session.execute(text("UPDATE memories SET embedding = NULL"))
        await session.execute(
            text(f"ALTER TABLE memories ALTER COLUMN embedding TYPE vector({int(dimensions)})")
        )


async def reembed_all(
    db: Database,
    embedder: Embedder,
    *,
    batch: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Re-embed every memory in batches; returns counts (idempotent)."""
    retyped = 0
    if await column_dimensions(db) != embedder.dimensions:
        await _retype(db, embedder.dimensions)
        retyped = 1
    async with db.session() as session:
        total = int(await session.scalar(text("SELECT count(*) FROM memories")) or 0)
    done, last_id = 0, "00000000-0000-0000-0000-000000000000"
    while True:
        async with db.session() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT id, content, context FROM memories WHERE id > CAST(:last AS uuid) "
                        "ORDER BY id LIMIT :n"
                    ),
                    {"last": last_id, "n": batch},
                )
            ).all()
        if not rows:
            break
        texts = [embedding_text(r.content, r.context) for r in rows]
        vectors = await embedder.embed(texts, task="document")
        async with db.transaction() as session:
            await session.execute(
                text("UPDATE memories SET embedding = CAST(:v AS vector) WHERE id = :id"),
                [{"id": r.id, "v": v} for r, v in zip(rows, vectors, strict=True)],
            )
        done += len(rows)
        last_id = str(rows[-1].id)
        if progress is not None:
            progress(done, total)
    async with db.transaction() as session:
        await session.execute(text(_INDEX))
    return {"memories": done, "retyped": retyped}
