"""The connection pool keeps what it opened: a burst above the minimum does not open
new PostgreSQL backends the next time (each new one re-parses every statement)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text
from tests.conftest import make_settings

from companion.settings import Settings
from companion.store.database import Database


async def _burst(db: Database, size: int) -> set[int]:
    """Backend pids of ``size`` connections held at once."""
    pids: set[int] = set()
    hold = asyncio.Event()
    ready = 0

    async def one() -> None:
        nonlocal ready
        async with db.engine.connect() as conn:
            pids.add(int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()))
            ready += 1
            if ready == size:
                hold.set()
            await hold.wait()

    await asyncio.gather(*(one() for _ in range(size)))
    return pids


async def test_a_burst_above_the_minimum_reuses_its_backends(database_url: str) -> None:
    settings: Any = make_settings(database_url, DB_POOL_MIN_SIZE="1", DB_POOL_MAX_SIZE="4")
    assert isinstance(settings, Settings)
    db = Database.from_settings(settings)
    try:
        await db.warm(settings.db.db_pool_min_size)
        assert db.engine.pool.checkedin() == 1  # type: ignore[attr-defined]
        first = await _burst(db, 4)
        assert len(first) == 4
        assert db.engine.pool.checkedin() == 4  # type: ignore[attr-defined]
        assert await _burst(db, 4) == first  # the same backends, none opened again
    finally:
        await db.close()
