"""The search statement's generic plan for a user among many smaller ones.

A prepared statement's plan turns generic after five runs, and the generic plan
estimates the rows of an average user. In a table of many users with a memory or two,
that is a couple of rows; for a user with hundreds of memories the plan must still
parse the query once and read the candidates by their primary key.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from sqlalchemy import event, text

from companion.memory import SearchFilters
from companion.memory.search import fetch_candidates


async def _skewed(runtime: Any) -> None:
    """300 users with one memory each, and ``many`` with 300."""
    async with runtime.db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO users (id) SELECT 'one' || g FROM generate_series(0, 299) g "
                "UNION ALL SELECT 'many'"
            )
        )
        await session.execute(
            text(
                "INSERT INTO memories (id, user_id, memory_type, content, content_hash, embedding) "
                "SELECT gen_random_uuid(), CASE WHEN g < 300 THEN 'one' || g ELSE 'many' END, "
                "'episodic', (ARRAY['coffee', 'garden', 'weather', 'kitten', 'tram'])"
                "[1 + g % 5] || ' and the ' || (ARRAY['lake', 'bakery', 'choir'])[1 + g % 3] "
                "|| ' ' || g, 'h', (SELECT array_agg(random() - 0.5)::vector "
                "FROM generate_series(1, 384) WHERE g >= 0) FROM generate_series(0, 599) g"
            )
        )
    async with runtime.db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE memories"))


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, np.ndarray) or (
        isinstance(value, list | tuple) and value and all(isinstance(v, float) for v in value)
    ):  # the query vector, a pgvector ``vector`` parameter
        return "'[" + ",".join(repr(float(v)) for v in value) + "]'"
    if isinstance(value, list | tuple):
        items = ",".join('"' + str(v).replace('"', '\\"') + '"' for v in value)
        return "'{" + items + "}'"
    return "'" + str(value).replace("'", "''") + "'"


def _lines(plan: Any) -> list[str]:
    """Every node of a JSON plan as one line: its type, index, filter and conditions."""
    out = []
    stack = [plan]
    while stack:
        node = stack.pop()
        out.append(
            " | ".join(
                f"{key}: {node[key]}"
                for key in ("Node Type", "Index Name", "Filter", "Index Cond", "Recheck Cond")
                if key in node
            )
        )
        stack.extend(node.get("Plans", []))
    return out


async def _generic_plan(runtime: Any, *, vector: list[float] | None, tsquery: str | None) -> Any:
    statements: list[tuple[str, Any]] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))

    sync_engine = runtime.db.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", on_execute)
    try:
        async with runtime.db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            hits = await fetch_candidates(
                conn, user_id="many", vector=vector, tsquery=tsquery, filters=SearchFilters(),
                pool=20, with_vectors=False,
            )  # fmt: skip
    finally:
        event.remove(sync_engine, "before_cursor_execute", on_execute)
    assert hits  # the statement finds something: its plan below is of a real search
    ((statement, params),) = [(s, p) for s, p in statements if "size AS MATERIALIZED" in s]
    async with runtime.db.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        await raw.execute("SET plan_cache_mode = force_generic_plan")
        await raw.execute("PREPARE search AS " + statement)
        try:
            args = ", ".join(_literal(p) for p in params)
            plan = await raw.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE search({args})")
        finally:
            await raw.execute("DEALLOCATE search; RESET plan_cache_mode")
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return _lines(plan[0]["Plan"])


async def test_the_full_text_side_parses_the_query_once_in_a_generic_plan(runtime: Any) -> None:
    await _skewed(runtime)
    lines = await _generic_plan(runtime, vector=None, tsquery="coffee | lake")
    per_row = [line for line in lines if "Filter:" in line and "to_tsquery" in line]
    assert per_row == [], per_row  # a Filter runs per row: the query parsed per row
    assert any("pk_memories" in line for line in lines), lines


async def test_the_candidates_are_read_by_key_in_a_generic_plan(runtime: Any) -> None:
    """Not by hashing every row of the user (the generic plan's choice when it joined)."""
    await _skewed(runtime)
    query = np.random.default_rng(5).normal(size=384).astype(float).tolist()
    lines = await _generic_plan(runtime, vector=query, tsquery=None)
    assert any("pk_memories" in line for line in lines), lines
    assert not any(line.startswith("Node Type: Hash Join") for line in lines), lines


async def test_a_plan_made_while_the_table_was_small_reads_each_candidate_by_key(
    runtime: Any,
) -> None:
    """A new server's first turns make the generic plan while ``memories`` holds a row
    or two per user; the lookup of each candidate must still take its primary key, not
    walk an index on ``user_id`` filtering every row of the user on the id."""
    async with runtime.db.transaction() as session:
        await session.execute(text("INSERT INTO users (id) VALUES ('early'), ('many')"))
        await session.execute(
            text(
                "INSERT INTO memories (id, user_id, memory_type, content, content_hash) "
                "VALUES (gen_random_uuid(), 'early', 'episodic', 'coffee by the lake', 'h')"
            )
        )
    async with runtime.db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE memories"))
    # The user grows after the statistics were taken (no ANALYZE since).
    async with runtime.db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO memories (id, user_id, memory_type, content, content_hash, embedding) "
                "SELECT gen_random_uuid(), 'many', 'episodic', 'coffee and the lake ' || g, 'h', "
                "(SELECT array_agg(random() - 0.5)::vector FROM generate_series(1, 384) "
                "WHERE g >= 0) FROM generate_series(0, 199) g"
            )
        )
    query = np.random.default_rng(7).normal(size=384).astype(float).tolist()
    lines = await _generic_plan(runtime, vector=query, tsquery="coffee | lake")
    lookups = [line for line in lines if "c.id" in line]  # each candidate's row
    assert lookups and all("Index Name: pk_memories" in line for line in lookups), lookups
