"""A restart of the embedded server keeps the pages its shared buffers held."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from companion.store.embedded import EmbeddedPostgres


async def _show(url: str) -> str:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("CREATE TABLE IF NOT EXISTS t AS SELECT 1 AS x"))
            await conn.commit()
            return str((await conn.execute(text("SHOW shared_preload_libraries"))).scalar_one())
    finally:
        await engine.dispose()


def test_a_restart_reads_back_the_buffered_pages(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path)
    server.start()
    try:
        preloaded = asyncio.run(_show(server.url("postgres")))
    finally:
        server.stop()
    assert "pg_prewarm" in preloaded
    # autoprewarm wrote the list of buffered pages at shutdown; the next start reads it.
    assert (tmp_path / "pgdata" / "autoprewarm.blocks").stat().st_size > 0
