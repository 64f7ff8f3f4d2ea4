"""Data written to the embedded PostgreSQL survives a server restart."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from companion.store.embedded import EmbeddedPostgres


async def _run(url: str, sql: str) -> object:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql))
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


async def test_data_survives_restart(tmp_path: Path) -> None:
    home = Path("/tmp") / f"companion-restart-{uuid.uuid4().hex[:8]}"  # short socket path
    server = EmbeddedPostgres(home)
    url = server.start()
    await _run(url, "CREATE TABLE kept (v text)")
    await _run(url, "INSERT INTO kept VALUES ('still here')")
    pid_before = server._server.get_pid()
    server.stop()
    assert not (home / "pgdata" / "postmaster.pid").exists()

    again = EmbeddedPostgres(home)
    url = again.start()
    try:
        assert again._server.get_pid() != pid_before
        assert await _run(url, "SELECT v FROM kept") == "still here"
    finally:
        again.stop()
        shutil.rmtree(home, ignore_errors=True)
