"""The memory-access migration carries each memory's counts over, and back.

Rows are written with the schema before it (the counts in ``memories``), then the
migration moves them to ``memory_access``; downgrading puts them back.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from companion.store.migrate import downgrade, upgrade

REVISION = "0018"
SEEN, UNSEEN = uuid.uuid4(), uuid.uuid4()
AT = int(datetime(2026, 11, 1, 10, tzinfo=UTC).timestamp())

_BEFORE = [
    "INSERT INTO users (id) VALUES ('u:ann')",
    "INSERT INTO memories (id, user_id, memory_type, content, content_hash, access_count,"
    f" last_accessed) VALUES ('{SEEN}', 'u:ann', 'episodic', 'Ann likes tea', 'h1', 3,"
    " '2026-11-01T10:00:00+00'),"
    f" ('{UNSEEN}', 'u:ann', 'episodic', 'Ann has a cat', 'h2', 0, NULL)",
]


@pytest.fixture
async def scratch_url(embedded_pg):  # type: ignore[no-untyped-def]
    name = f"mig_{uuid.uuid4().hex[:8]}"
    embedded_pg.create_database(name)
    yield embedded_pg.url(name)
    embedded_pg.drop_database(name)


def _previous() -> str:
    """The revision this migration follows (whatever the chain is re-ordered to)."""
    from alembic.script import ScriptDirectory

    from companion.store.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("", vector_dimensions=384))
    previous = script.get_revision(REVISION).down_revision
    assert isinstance(previous, str)
    return previous


async def _run(url: str, *statements: str) -> list[tuple[object, ...]]:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            result = None
            for sql in statements:
                result = await conn.execute(text(sql))
            return (
                [tuple(r) for r in result.all()]
                if result is not None and result.returns_rows
                else []
            )
    finally:
        await engine.dispose()


async def test_access_counts_move_out_of_memories_and_back(scratch_url: str) -> None:
    await upgrade(scratch_url, vector_dimensions=384, revision=_previous())
    await _run(scratch_url, *_BEFORE)

    await upgrade(scratch_url, vector_dimensions=384, revision=REVISION)
    moved = await _run(
        scratch_url,
        "SELECT user_id, memory_id::text, access_count, extract(epoch FROM last_accessed)::bigint "
        "FROM memory_access",
    )
    assert moved == [("u:ann", str(SEEN), 3, AT)]
    columns = await _run(
        scratch_url,
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'memories' "
        "AND column_name IN ('access_count', 'last_accessed')",
    )
    assert columns == [(0,)]

    await downgrade(scratch_url, vector_dimensions=384, revision=_previous())
    back = await _run(
        scratch_url,
        "SELECT id::text, access_count, extract(epoch FROM last_accessed)::bigint FROM memories "
        "ORDER BY access_count",
    )
    assert back == [(str(UNSEEN), 0, None), (str(SEEN), 3, AT)]
