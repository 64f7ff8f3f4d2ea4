"""The two search paths: exact for a small user, index and capped full-text for a big one."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from sqlalchemy import event, text

from companion.memory import SearchFilters
from companion.memory.search import BIG_POOL, fetch_candidates
from companion.store.database import VECTOR_SESSION_SETTINGS


async def _bulk(runtime: Any, *, users: int, rows: int, content: str) -> None:
    async with runtime.db.transaction() as session:
        await session.execute(
            text("INSERT INTO users (id) SELECT 'bulk' || g FROM generate_series(0, :n - 1) g"),
            {"n": users},
        )
        await session.execute(
            text(
                "INSERT INTO memories (id, user_id, memory_type, content, content_hash, embedding) "
                "SELECT gen_random_uuid(), 'bulk' || (g % :users), 'episodic', "
                ":content || ' ' || g, 'h', (SELECT array_agg(random() - 0.5)::vector "
                "FROM generate_series(1, 384) WHERE g >= 0) FROM generate_series(0, :rows - 1) g"
            ),
            {"users": users, "rows": rows, "content": content},
        )


async def _exact_nearest(session: Any, user_id: str, query: list[float], k: int) -> list[Any]:
    """The ids of the user's ``k`` nearest memories by comparing every vector (``OFFSET
    0`` keeps the planner off the HNSW index): the truth a search must return."""
    rows = await session.execute(
        text(
            "SELECT id FROM (SELECT id, embedding <=> CAST(:q AS vector) AS d "
            "FROM memories WHERE user_id = :user OFFSET 0) s ORDER BY d LIMIT :k"
        ),
        {"q": str(query), "user": user_id, "k": k},
    )
    return list(rows.scalars())


async def test_a_small_user_in_a_big_table_gets_its_true_nearest(runtime: Any) -> None:
    """Below the exact threshold every vector of the user is compared: the exact top k."""
    await _bulk(runtime, users=40, rows=2000, content="row")
    query = np.random.default_rng(3).normal(size=384).astype(float).tolist()
    async with runtime.db.transaction() as session:
        hits = await fetch_candidates(
            session, user_id="bulk5", vector=query, tsquery=None, filters=SearchFilters(),
            pool=20, with_vectors=False,
        )  # fmt: skip
        exact_ids = await _exact_nearest(session, "bulk5", query, 20)
    assert [h.id for h in sorted(hits, key=lambda h: -(h.similarity or 0))] == exact_ids
    assert all(h.vector is None for h in hits)


async def test_capped_full_text_keeps_the_rarest_word(runtime: Any) -> None:
    """A big user's full-text side ranks few matches, and they hold the rare word."""
    await _bulk(runtime, users=1, rows=400, content="coffee garden weather")
    async with runtime.db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO memories (id, user_id, memory_type, content, content_hash) "
                "VALUES (gen_random_uuid(), 'bulk0', 'episodic', "
                "'The coffee grinder is called Zephyr', 'h')"
            )
        )
    filters = SearchFilters()
    async with runtime.db.transaction() as session:
        capped = await fetch_candidates(
            session, user_id="bulk0", vector=None, tsquery="coffee | zephyr", filters=filters,
            pool=20, exact_below=100, exact_vectors_below=100, match_cap=30,
        )  # fmt: skip
        full = await fetch_candidates(
            session, user_id="bulk0", vector=None, tsquery="coffee | zephyr", filters=filters,
            pool=20,
        )  # fmt: skip
    best = max(full, key=lambda h: h.text_rank or 0.0)
    assert "Zephyr" in best.content and len(full) == 20
    # The capped side dropped "coffee" (its 401 rows exceed the cap of 30) and ranked
    # only the rows holding the rare word.
    assert [h.content for h in capped] == ["The coffee grinder is called Zephyr"]
    assert capped[0].text_rank is not None and capped[0].text_rank > 0


async def _garden_rows(runtime: Any) -> None:
    """200 memories of one user saying "garden"; "quince" in 4 of them, and "zephyr" in
    the last 60 written (so the first rows in heap order do not hold it)."""
    async with runtime.db.transaction() as session:
        await session.execute(text("INSERT INTO users (id) VALUES ('bulk0')"))
        await session.execute(
            text(
                "INSERT INTO memories (id, user_id, memory_type, content, content_hash) "
                "SELECT gen_random_uuid(), 'bulk0', 'episodic', 'garden note ' || g "
                "|| CASE WHEN g % 50 = 7 THEN ' quince' ELSE '' END "
                "|| CASE WHEN g >= 140 THEN ' zephyr' ELSE '' END, 'h' "
                "FROM generate_series(0, 199) g"
            )
        )


async def _capped(runtime: Any, tsquery: str, common: tuple[str, ...] = ()) -> list[Any]:
    async with runtime.db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        return await fetch_candidates(
            conn, user_id="bulk0", vector=None, tsquery=tsquery, filters=SearchFilters(),
            pool=20, exact_below=100,
            exact_vectors_below=100, match_cap=60, df_cap=20, common_words=common,
        )  # fmt: skip


async def test_a_word_at_the_count_cap_is_not_scanned_beside_a_rarer_one(runtime: Any) -> None:
    """Two words: "garden" (200 rows, counted to the cap of 20) and "quince" (4 rows)
    together match fewer rows than the cap of 60, yet only the rare word's rows are
    ranked: the common word's posting list is not read for rows BM25 ranks lower."""
    await _garden_rows(runtime)
    hits = await _capped(runtime, "garden | quince")
    assert len(hits) == 4
    assert all("quince" in h.content and (h.text_rank or 0.0) > 0 for h in hits)


async def test_when_every_word_is_common_the_rarest_by_the_count_is_scanned(
    runtime: Any,
) -> None:
    """Both words reach the count cap; the common-word list (most frequent first) says
    "zephyr" is the rarer, so its matches are ranked, not the first rows of either."""
    await _garden_rows(runtime)
    hits = await _capped(runtime, "garden | zephyr", common=("garden", "note", "zephyr"))
    assert len(hits) == 20
    assert all("zephyr" in h.content for h in hits)


async def test_every_connection_carries_the_hnsw_settings(runtime: Any) -> None:
    """The search sets nothing per call: pgvector's settings come with the connection."""
    async with runtime.db.engine.connect() as conn:
        shown = {
            name: (await conn.execute(text(f"SHOW {name}"))).scalar_one()
            for name in VECTOR_SESSION_SETTINGS
        }
    assert shown == VECTOR_SESSION_SETTINGS


async def test_one_statement_without_a_transaction_serves_both_paths(runtime: Any) -> None:
    """An autocommit connection (no BEGIN/COMMIT) gets the same rows on both paths."""
    await _bulk(runtime, users=2, rows=600, content="garden coffee")
    query = np.random.default_rng(5).normal(size=384).astype(float).tolist()
    results = {}
    async with runtime.db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for name, exact_below in (("exact", 5000), ("index", 1)):
            hits = await fetch_candidates(
                conn, user_id="bulk1", vector=query, tsquery="garden", filters=SearchFilters(),
                pool=20, exact_below=exact_below, exact_vectors_below=exact_below,
            )  # fmt: skip
            results[name] = hits
            raw = (await conn.get_raw_connection()).driver_connection
            assert not raw.is_in_transaction()  # no BEGIN was sent, nothing is left open
    for hits in results.values():
        assert len([h for h in hits if h.similarity is not None]) == 20
        assert len([h for h in hits if h.text_rank is not None]) == 20
        assert all(h.id is not None and "garden" in h.content for h in hits)


async def test_a_generic_plan_still_walks_the_index_for_a_big_user(runtime: Any) -> None:
    """Prepared statements get a generic plan after five runs, made for an average user.

    For such a user, reading the rows through a ``user_id`` B-tree and sorting them
    looks cheap; for a big one it compares every vector. The big user's dense branch
    must walk the HNSW index under any plan.
    """
    await _bulk(runtime, users=30, rows=1500, content="row")
    query = np.random.default_rng(9).normal(size=384).astype(float).tolist()
    async with runtime.db.transaction() as session:
        await session.execute(text("ANALYZE memories"))
        await session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        # As on a big table, where reading every row costs more than the index walk.
        # (Superseded rows included: no partial index then offers a full scan instead.)
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        hits = await fetch_candidates(
            session, user_id="bulk7", vector=query, tsquery=None,
            filters=SearchFilters(include_superseded=True), pool=20, exact_below=1,
            exact_vectors_below=1,
        )  # fmt: skip
        walks = (
            await session.execute(
                text("SELECT pg_stat_get_xact_numscans('ix_memories_embedding_hnsw'::regclass)")
            )
        ).scalar_one()
    assert len(hits) == 20
    assert walks == 1


async def test_the_big_path_walks_the_index_for_a_smaller_dense_pool(runtime: Any) -> None:
    """The index walk returns ``big_pool`` rows (its cost grows with them); the exact
    path of the same user keeps the full pool, and both start from the true nearest."""
    await _bulk(runtime, users=2, rows=600, content="row")
    query = np.random.default_rng(13).normal(size=384).astype(float).tolist()
    async with runtime.db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        exact = await fetch_candidates(
            conn, user_id="bulk1", vector=query, tsquery=None, filters=SearchFilters(),
            pool=40, big_pool=15, with_vectors=False,
        )  # fmt: skip
        big = await fetch_candidates(
            conn, user_id="bulk1", vector=query, tsquery=None, filters=SearchFilters(),
            pool=40, big_pool=15, exact_below=1, exact_vectors_below=1, with_vectors=False,
        )  # fmt: skip
        default = await fetch_candidates(
            conn, user_id="bulk1", vector=query, tsquery=None, filters=SearchFilters(),
            pool=40, exact_below=1, exact_vectors_below=1, with_vectors=False,
        )  # fmt: skip
    assert len(exact) == 40
    assert len(big) == 15
    assert len(default) == BIG_POOL
    nearest = max(exact, key=lambda h: h.similarity or 0.0)
    # 300 rows per user: the HNSW walk (ef_search 100) finds the nearest one too.
    assert nearest.id in {h.id for h in big}


async def test_a_word_the_user_never_said_does_not_shut_out_the_others(runtime: Any) -> None:
    """On the capped side the rarest word is always kept; a word with no match at all
    is not a candidate for it (it would leave the full-text side empty)."""
    await _bulk(runtime, users=1, rows=400, content="coffee garden weather")
    async with runtime.db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        hits = await fetch_candidates(
            conn, user_id="bulk0", vector=None, tsquery="coffee | zanzibar",
            filters=SearchFilters(), pool=20, exact_below=100,
            exact_vectors_below=100, match_cap=30,
        )  # fmt: skip
    assert len(hits) == 20
    assert all("coffee" in h.content and (h.text_rank or 0.0) > 0 for h in hits)


async def test_the_size_count_reads_only_the_index(runtime: Any) -> None:
    """The user's rows are counted to choose the path; once VACUUM has marked the pages
    all-visible, the count is an index-only scan of (user_id, companion_id)."""
    await _bulk(runtime, users=20, rows=2000, content="row")
    async with runtime.db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM (ANALYZE) memories"))
    statements: list[tuple[str, Any]] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))

    query = np.random.default_rng(17).normal(size=384).astype(float).tolist()
    sync_engine = runtime.db.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", on_execute)
    try:
        async with runtime.db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await fetch_candidates(
                conn, user_id="bulk3", vector=query, tsquery="row", filters=SearchFilters(),
                pool=20,
            )  # fmt: skip
    finally:
        event.remove(sync_engine, "before_cursor_execute", on_execute)
    ((statement, params),) = [(s, p) for s, p in statements if "size AS MATERIALIZED" in s]
    async with runtime.db.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        plan = await raw.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, *params)
    plan = json.loads(plan) if isinstance(plan, str) else plan  # the pool decodes json
    nodes = _plan_nodes(plan[0]["Plan"])
    counts = [n for n in nodes if n.get("Index Name") == "ix_memories_user_visible"]
    assert any(
        n["Node Type"] == "Index Only Scan" and n["Heap Fetches"] == 0 and n["Actual Rows"] > 0
        for n in counts
    ), counts


def _plan_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    out = [node]
    for child in node.get("Plans", []):
        out += _plan_nodes(child)
    return out


async def test_filtered_exact_top_k_with_one_statement_for_every_value(runtime: Any) -> None:
    """Under filters the exact path still returns the user's true nearest that pass them;
    the statement is written once per filter shape, with the values bound each time."""
    await _bulk(runtime, users=4, rows=1200, content="row")
    async with runtime.db.transaction() as session:
        await session.execute(
            text(
                "UPDATE memories SET importance = (abs(hashtext(id::text)) % 100) / 100.0, "
                "memory_type = CASE WHEN abs(hashtext(content)) % 3 = 0 THEN 'semantic' "
                "ELSE 'episodic' END"
            )
        )
    query = np.random.default_rng(21).normal(size=384).astype(float).tolist()
    statements: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", on_execute)
    try:
        for types, floor in ((("semantic",), 0.3), (("episodic",), 0.2), (("semantic",), 0.7)):
            filters = SearchFilters(memory_types=types, min_importance=floor)
            async with runtime.db.transaction() as session:
                hits = await fetch_candidates(
                    session, user_id="bulk2", vector=query, tsquery=None, filters=filters,
                    pool=15, with_vectors=False,
                )  # fmt: skip
                exact = await session.execute(
                    text(
                        "SELECT id FROM (SELECT id, embedding <=> CAST(:q AS vector) AS d "
                        "FROM memories WHERE user_id = 'bulk2' AND memory_type = :t "
                        "AND importance >= :f AND invalid_at IS NULL OFFSET 0) s "
                        "ORDER BY d LIMIT 15"
                    ),
                    {"q": str(query), "t": types[0], "f": floor},
                )
                exact_ids = list(exact.scalars())
            assert exact_ids  # the filters leave rows to find
            assert [h.id for h in sorted(hits, key=lambda h: -(h.similarity or 0))] == exact_ids
            assert all(h.memory_type == types[0] and h.importance >= floor for h in hits)
    finally:
        event.remove(runtime.db.engine.sync_engine, "before_cursor_execute", on_execute)
    searches = [s for s in statements if "size AS MATERIALIZED" in s]
    assert len(searches) == 3 and len(set(searches)) == 1


async def test_vectors_stay_exact_above_the_full_text_threshold(runtime: Any) -> None:
    """Between the two thresholds the dense side compares every vector (the whole pool,
    the exact order) while the full-text side is already capped."""
    await _bulk(runtime, users=1, rows=400, content="coffee garden weather")
    query = np.random.default_rng(5).normal(size=384).astype(float).tolist()
    async with runtime.db.transaction() as session:
        hits = await fetch_candidates(
            session, user_id="bulk0", vector=query, tsquery="coffee", filters=SearchFilters(),
            pool=40, exact_below=100, exact_vectors_below=1000, match_cap=30, with_vectors=False,
        )  # fmt: skip
        exact_ids = await _exact_nearest(session, "bulk0", query, 40)
    dense = sorted(
        (h for h in hits if h.similarity is not None), key=lambda h: -(h.similarity or 0)
    )
    assert [h.id for h in dense] == exact_ids  # 40 rows, not the walk's BIG_POOL
    assert sum(h.text_rank is not None for h in hits) == 30  # the match cap, not all 400
