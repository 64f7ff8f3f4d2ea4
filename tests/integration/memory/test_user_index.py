"""A very large user's own indexes: built and dropped by the nightly job, used by the search."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import text

from companion.memory import SearchFilters
from companion.memory.search import fetch_candidates
from companion.memory.user_index import OwnIndexes, ensure_user_indexes, own_index_names

#: Quotes, a colon-word the statement's own parameters look like, and a backslash.
ODD_USER = "o'brien:pool\\x"


async def _rows(runtime: Any, user_id: str, n: int, seed: int) -> None:
    vectors = np.random.default_rng(seed).normal(size=(n, 384))
    async with runtime.db.transaction() as session:
        await session.execute(text("INSERT INTO users (id) VALUES (:u)"), {"u": user_id})
        await session.execute(
            text(
                "INSERT INTO memories (id, user_id, memory_type, content, content_hash, "
                "embedding) VALUES (gen_random_uuid(), :u, 'episodic', :c, 'h', "
                "CAST(:v AS vector))"
            ),
            [
                {"u": user_id, "c": f"garden note {i} " + ("zephyr" if i % 50 == 0 else "rain"),
                 "v": str(v.tolist())}
                for i, v in enumerate(vectors)
            ],
        )  # fmt: skip


async def _scans(runtime: Any, conn: Any, name: str) -> int:
    value = await conn.execute(
        text("SELECT pg_stat_get_xact_numscans(to_regclass(:n))"), {"n": name}
    )
    return int(value.scalar_one() or 0)


async def test_a_large_user_gets_own_indexes_and_the_search_walks_them(runtime: Any) -> None:
    await _rows(runtime, ODD_USER, 400, seed=1)
    await _rows(runtime, "small", 100, seed=2)
    engine = runtime.db.engine
    own = OwnIndexes(engine)
    try:
        first = await ensure_user_indexes(engine, threshold=300)
        assert (first["built"], first["kept"], first["dropped"]) == (1, 0, 0)
        again = await ensure_user_indexes(engine, threshold=300)
        assert (again["built"], again["kept"], again["dropped"]) == (0, 1, 0)
        assert await own.has(ODD_USER) and not await own.has("small")

        query = np.random.default_rng(3).normal(size=384).astype(float).tolist()
        hnsw, gin = own_index_names(ODD_USER)
        async with runtime.db.engine.connect() as conn:  # one transaction: the scan counts
            await conn.execute(text("ANALYZE memories"))
            before = await _scans(runtime, conn, hnsw), await _scans(runtime, conn, gin)
            mine = await fetch_candidates(
                conn, user_id=ODD_USER, vector=query, tsquery="zephyr | garden",
                filters=SearchFilters(), pool=20, exact_below=100,
                exact_vectors_below=100, own_index=True,
            )  # fmt: skip
            after = await _scans(runtime, conn, hnsw), await _scans(runtime, conn, gin)
            shared = await fetch_candidates(
                conn, user_id=ODD_USER, vector=query, tsquery="zephyr | garden",
                filters=SearchFilters(), pool=20, exact_below=100, exact_vectors_below=100,
            )  # fmt: skip
            exact = await fetch_candidates(
                conn, user_id=ODD_USER, vector=query, tsquery=None, filters=SearchFilters(),
                pool=20,
            )  # fmt: skip
        # Both of the user's own indexes were read: the graph and the full-text one.
        assert after[0] > before[0] and after[1] > before[1]

        # The same rows as through the shared indexes: the full-text side exactly (the
        # 8 rows of "zephyr": "garden", in all 400, reaches the count cap and is not
        # scanned beside a rarer word), the dense side as the exact top (400 rows: the
        # walk finds nearly all of it).
        def text_side(hits: list[Any]) -> dict[Any, float]:
            return {h.id: round(h.text_rank, 9) for h in hits if h.text_rank is not None}

        assert text_side(mine) == text_side(shared) and len(text_side(mine)) == 8
        assert all("zephyr" in h.content for h in mine if h.text_rank is not None)
        dense = {h.id for h in mine if h.similarity is not None}
        assert len(dense & {h.id for h in exact}) >= 18
        assert all(h.content.startswith("garden note") for h in mine)

        # Below half the threshold the user loses them; the search notices on reload.
        async with runtime.db.transaction() as session:
            await session.execute(
                text("DELETE FROM memories WHERE user_id = :u AND content NOT LIKE '%zephyr'"),
                {"u": ODD_USER},
            )
        dropped = await ensure_user_indexes(engine, threshold=300)
        assert dropped["dropped"] == 2
        await own.reload()
        assert not await own.has(ODD_USER)
    finally:
        async with runtime.db.transaction() as session:
            await session.execute(text("DELETE FROM memories"))
        await ensure_user_indexes(engine, threshold=300)  # no one is left with their own
