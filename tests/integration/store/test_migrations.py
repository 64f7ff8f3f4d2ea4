"""Migrations upgrade and downgrade cleanly, and the schema has what the design needs."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from companion.store.migrate import downgrade, upgrade


def _head() -> str:
    """The newest revision (one head: the migrations form a single chain)."""
    from alembic.script import ScriptDirectory

    from companion.store.migrate import alembic_config

    (head,) = ScriptDirectory.from_config(alembic_config("", vector_dimensions=384)).get_heads()
    return str(head)


async def _scalar(url: str, sql: str) -> object:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade(scratch_url: str) -> None:
    await upgrade(scratch_url, vector_dimensions=384)
    tables = await _scalar(
        scratch_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    )
    assert tables >= 17
    await downgrade(scratch_url, vector_dimensions=384)
    left = await _scalar(
        scratch_url,
        "SELECT count(*) FROM pg_tables "
        "WHERE schemaname = 'public' AND tablename <> 'alembic_version'",
    )
    assert left == 0
    await upgrade(scratch_url, vector_dimensions=384)
    assert await _scalar(scratch_url, "SELECT version_num FROM alembic_version") == _head()


async def test_vector_dimension_follows_embedder(scratch_url: str) -> None:
    await upgrade(scratch_url, vector_dimensions=1536)
    typmod = await _scalar(
        scratch_url,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'memories'::regclass AND attname = 'embedding'",
    )
    assert typmod == "vector(1536)"


async def test_indexes_from_the_design(database_url: str) -> None:
    indexes = await _scalar(
        database_url,
        "SELECT string_agg(indexdef, E'\\n') FROM pg_indexes WHERE schemaname = 'public'",
    )
    assert "USING hnsw (embedding vector_cosine_ops)" in indexes
    # Full-text search is always for one user: the user's part of the index only.
    assert "ix_memories_user_tsv ON public.memories USING gin (user_id, tsv)" in indexes
    # A search counts the user's visible current rows from this index alone.
    visible = "ix_memories_user_visible ON public.memories USING btree (user_id, companion_id)"
    assert f"{visible} WHERE (invalid_at IS NULL)" in indexes
    assert "ix_memories_user_current" not in indexes
    # A partial unique index, so history rows are unlimited: one current row per companion.
    current = "ux_personality_state_current ON public.personality_state USING btree (companion_id)"
    assert f"{current} WHERE is_current" in indexes
    # Two separate GIN indexes.
    assert "ix_interactions_pad_before ON public.interactions USING gin (pad_before)" in indexes
    assert "ix_interactions_pad_after ON public.interactions USING gin (pad_after)" in indexes


async def test_every_user_table_has_user_id_and_cascades(database_url: str) -> None:
    from companion.store.schema import user_tables

    missing_fk = await _scalar(
        database_url,
        """
        SELECT string_agg(c.table_name, ',') FROM information_schema.columns c
        WHERE c.table_schema = 'public' AND c.column_name = 'user_id'
          AND c.table_name NOT IN (
            SELECT tc.table_name FROM information_schema.table_constraints tc
            JOIN information_schema.key_column_usage k USING (constraint_name)
            WHERE tc.constraint_type = 'FOREIGN KEY' AND k.column_name = 'user_id')
        """,
    )
    # llm_calls and job marks may outlive users by design (metrics, bookkeeping).
    assert set((missing_fk or "").split(",")) - {""} <= {"llm_calls", "job_user_marks"}
    assert "memory_conflicts" in user_tables()
