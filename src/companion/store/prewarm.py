"""Read the memories' vector index into PostgreSQL's shared buffers (``pg_prewarm``).

A big user's search walks the HNSW graph: ~3,300 pages per search on the 1M-row
benchmark, a few milliseconds when they are in shared buffers and tens of ms when each
is read from the OS cache. Autoprewarm brings back after a restart the pages that were
in buffers before it; a new or rebuilt index, or a server's first start, begins empty,
and each never-seen query then reads its part of the graph. Reading the whole index
once (sequentially, ~1.5 s per GB from the OS cache) takes that cost off the searches.

Done only when the index fits in half of the shared buffers (the table's pages need
the rest), and only where the server offers ``pg_prewarm``.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["VECTOR_INDEX", "prewarm_vector_index"]

log = logging.getLogger(__name__)

VECTOR_INDEX = "ix_memories_embedding_hnsw"

_SIZES = (
    "SELECT pg_relation_size(to_regclass(:index)), "
    "(SELECT setting::bigint * 8192 FROM pg_settings WHERE name = 'shared_buffers'), "
    "EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_prewarm')"
)


async def prewarm_vector_index(engine: AsyncEngine) -> int:
    """Pages of the vector index read into shared buffers (0 when skipped)."""
    started = time.perf_counter()
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        size, buffers, available = (await conn.execute(text(_SIZES), {"index": VECTOR_INDEX})).one()
        if not size or not available or size > buffers // 2:
            log.info(
                "vector index not prewarmed",
                extra={
                    "index_bytes": size,
                    "shared_buffers_bytes": buffers,
                    "available": available,
                },
            )
            return 0
        await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
        pages = int(
            (
                await conn.execute(text("SELECT pg_prewarm(:index)"), {"index": VECTOR_INDEX})
            ).scalar_one()
        )
    log.info(
        "vector index prewarmed",
        extra={"pages": pages, "seconds": round(time.perf_counter() - started, 2)},
    )
    return pages
