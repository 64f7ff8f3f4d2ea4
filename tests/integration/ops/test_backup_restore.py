"""``companion backup`` → wipe → ``companion restore``: the same memories and personality.

The CLI runs as a subprocess against this run's database, with the embedded wheel's
``pg_dump``/``pg_restore``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from companion.memory import ImportMessage
from companion.store.schema import metadata

_SNAPSHOT = {
    "memories": "SELECT id, user_id, content, memory_type, embedding::text FROM memories",
    "personality": (
        "SELECT user_id, openness, neuroticism, pleasure, trigger_event FROM personality_state"
    ),
    "users": "SELECT id, timezone FROM users",
}


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "companion.cli", *args],
        env={**os.environ, "DATABASE_URL": database_url.replace("+asyncpg", "")},
        capture_output=True,
        text=True,
        timeout=300,
    )


async def _snapshot(runtime) -> dict[str, list[tuple[object, ...]]]:
    # A restore re-creates the tables and the vector type: pooled connections hold
    # codecs and statements for the old ones (the docs say: stop the app first).
    await runtime.db.engine.dispose()
    async with runtime.db.session() as session:
        return {
            name: sorted((tuple(r) for r in await session.execute(text(sql))), key=repr)
            for name, sql in _SNAPSHOT.items()
        }


def _dumps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.dump"))


async def _wipe(runtime) -> None:
    tables = ", ".join(f'"{name}"' for name in metadata.tables)
    async with runtime.db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


async def test_backup_wipe_restore_round_trip(runtime, database_url: str, tmp_path: Path) -> None:
    start = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
    lines = ["My sister Ana lives in Lisbon.", "I play the cello on Sundays.", "I hate olives."]
    messages = [
        ImportMessage(f"m{i}", "user", "me", line, start + timedelta(minutes=i))
        for i, line in enumerate(lines)
    ]
    await runtime.memory.import_history(user_id="api:ana", conversation="c1", messages=messages)
    await runtime.personality.set_preset(user_id="api:ana", preset="intellectual_mentor")
    before = await _snapshot(runtime)
    assert len(before["memories"]) >= 3 and before["personality"]

    out = tmp_path / "nightly" / "companion.dump"
    made = _cli(database_url, "backup", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert out.stat().st_size > 0 and not out.with_name("companion.dump.partial").exists()

    # A restore over live data needs --yes, and refusing changes nothing.
    refused = _cli(database_url, "restore", str(out))
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert await _snapshot(runtime) == before

    await _wipe(runtime)
    assert (await _snapshot(runtime))["memories"] == []
    restored = _cli(database_url, "restore", str(out))  # empty now: no --yes needed
    assert restored.returncode == 0, restored.stderr
    assert await _snapshot(runtime) == before

    # --yes restores over data (here: a user added after the backup disappears).
    async with runtime.db.transaction() as session:
        await session.execute(text("INSERT INTO users (id) VALUES ('api:late')"))
    forced = _cli(database_url, "restore", str(out), "--yes")
    assert forced.returncode == 0, forced.stderr
    assert await _snapshot(runtime) == before


def test_restore_names_a_missing_file(database_url: str, tmp_path: Path) -> None:
    missing = _cli(database_url, "restore", str(tmp_path / "nope.dump"), "--yes")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    no_target = _cli(database_url, "backup")
    assert no_target.returncode == 2 and "--out" in no_target.stderr


async def test_nightly_job_writes_to_backup_dir_and_prunes(
    runtime, database_url: str, tmp_path: Path
) -> None:
    import dataclasses

    from tests.conftest import make_settings

    from companion.jobs import JobRunner

    old = tmp_path / "companion-20260101-034500.dump"
    old.write_bytes(b"PGDMP")
    os.utime(old, (0, 0))  # far older than the two weeks kept
    keep = tmp_path / "notes.txt"
    keep.write_text("not a dump")
    settings = make_settings(database_url, BACKUP_DIR=str(tmp_path))
    result = await JobRunner(dataclasses.replace(runtime, settings=settings), pause=0).run("backup")
    assert result["status"] == "succeeded", result
    dumps = _dumps(tmp_path)
    assert len(dumps) == 1 and dumps[0] != old.name and keep.exists()
    unset = await JobRunner(runtime, pause=0).run("backup", period="2026-01-02")
    assert unset["counts"] == {"skipped": "BACKUP_DIR is unset"}, unset


def _migrate_together(url: str, *, processes: int) -> tuple[list[int], str]:
    env = {**os.environ, "DATABASE_URL": url.replace("+asyncpg", "")}
    command = [sys.executable, "-m", "companion.cli", "migrate"]
    procs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(processes)
    ]
    output = [proc.communicate(timeout=600)[0] for proc in procs]
    return [proc.returncode for proc in procs], "\n".join(output)[-4000:]


async def test_processes_starting_together_migrate_once(embedded_pg) -> None:
    """Gateways, workers and a migration job may all start at once on a fresh database."""
    import uuid

    from alembic.script import ScriptDirectory
    from sqlalchemy.ext.asyncio import create_async_engine

    from companion.store.migrate import alembic_config

    name = f"race_{uuid.uuid4().hex[:8]}"
    embedded_pg.create_database(name)
    try:
        url = embedded_pg.url(name)
        codes, output = _migrate_together(url, processes=3)
        assert codes == [0, 0, 0], output
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        await engine.dispose()
        head = ScriptDirectory.from_config(alembic_config(url, vector_dimensions=384))
        assert version == head.get_current_head()
    finally:
        embedded_pg.drop_database(name)
