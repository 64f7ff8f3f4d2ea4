"""Vectors travel in pgvector's binary form on every pooled connection.

The same floats come back as went in, the server holds and prints what it held with
text (psql and dumps see no difference), and a connection opened before pgvector was
installed gets the codec once it is.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
from sqlalchemy import text
from tests.conftest import make_settings

from companion.memory.models.memory import Memory
from companion.settings import Settings
from companion.store.database import Database


def _database(url: str) -> Database:
    settings: Any = make_settings(url, DB_POOL_MIN_SIZE="1", DB_POOL_MAX_SIZE="1")
    assert isinstance(settings, Settings)
    return Database.from_settings(settings)


async def test_a_vector_comes_back_as_the_same_floats(database_url: str) -> None:
    rng = np.random.default_rng(11)
    row = rng.standard_normal(384).astype(np.float32)
    doubles = rng.standard_normal(384)
    db = _database(database_url)
    try:
        async with db.engine.connect() as conn:
            for sent, expected in ((row, row), (row.tolist(), row), (doubles, doubles)):
                back = (await conn.execute(text("SELECT CAST(:v AS vector)"), {"v": sent})).scalar()
                assert isinstance(back, np.ndarray)
                assert np.array_equal(back, np.asarray(expected, dtype=np.float32))
            # What the server holds prints as the same floats as text sent the same vector.
            binary_sent, text_sent = (
                await conn.execute(
                    text("SELECT CAST(:v AS vector)::text, CAST(CAST(:t AS text) AS vector)::text"),
                    {"v": row, "t": "[" + ",".join(f"{x:.9g}" for x in row.tolist()) + "]"},
                )
            ).one()
            assert binary_sent == text_sent
            assert np.array_equal(np.array(binary_sent[1:-1].split(","), dtype=np.float32), row)
            # The server's own comparison: the two forms name the same vector.
            same = await conn.scalar(
                text("SELECT CAST(:v AS vector) = CAST(CAST(:t AS text) AS vector)"),
                {"v": row.tolist(), "t": binary_sent},
            )
            assert same is True
    finally:
        await db.close()


async def test_the_memory_column_writes_and_reads_lists(database_url: str) -> None:
    vector = np.random.default_rng(12).standard_normal(384).astype(np.float32).tolist()
    db = _database(database_url)
    user = f"codec-{uuid.uuid4().hex[:8]}"
    try:
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO users (id) VALUES (:u)"), {"u": user})
            memory = Memory(
                user_id=user,
                content="the codec",
                content_hash="c",
                memory_type="episodic",
                embedding=vector,
            )
            session.add(memory)
        async with db.session() as session:
            stored = await session.get(Memory, memory.id)
            assert stored is not None
            assert isinstance(stored.embedding, list)
            assert stored.embedding == vector
            as_text = await session.scalar(
                text("SELECT embedding::text FROM memories WHERE id = :id"), {"id": memory.id}
            )
            assert np.array_equal(np.array(as_text[1:-1].split(","), dtype=np.float32), vector)
    finally:
        await db.close()


async def test_a_connection_opened_before_pgvector_gets_the_codec(scratch_url: str) -> None:
    db = _database(scratch_url)
    try:
        await db.warm(1)  # the one connection opens on a database without pgvector
        async with db.engine.connect() as conn:
            await conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            await conn.commit()
        async with db.engine.connect() as conn:  # the same connection, checked out again
            back = (
                await conn.execute(text("SELECT CAST(:v AS vector)"), {"v": [0.5, 2.0]})
            ).scalar()
        assert isinstance(back, np.ndarray)
        assert back.tolist() == [0.5, 2.0]
    finally:
        await db.close()
