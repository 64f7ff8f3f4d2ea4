"""The vector index is read into shared buffers when it fits."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from companion.store.prewarm import VECTOR_INDEX, prewarm_vector_index


async def test_the_whole_vector_index_is_read_into_shared_buffers(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        pages = await prewarm_vector_index(engine)
        async with engine.connect() as conn:
            index_pages = (
                await conn.execute(
                    text("SELECT pg_relation_size(to_regclass(:i)) / 8192"), {"i": VECTOR_INDEX}
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    assert index_pages > 0
    assert pages == index_pages
