"""The migrations and the ORM models describe the same schema (no autogenerate diff)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from companion.store.schema import metadata

# Differences autogenerate cannot judge: the vector column's dimension is set by the
# migration from the embedder (the ORM column is dimensionless), and the HNSW index
# is created in raw SQL; a very large user's own indexes (``memory.user_index``) are
# built and dropped by a nightly job, not by migrations.
_IGNORED_INDEXES = {"ix_memories_embedding_hnsw"}
_OWN_INDEX_PREFIX = "ix_mem_own_"


def _relevant(diff: object) -> bool:
    if isinstance(diff, list):  # modify_* entries come as lists of tuples
        return any(_relevant(item) for item in diff)
    kind = diff[0]
    if kind in {"remove_index", "add_index"} and (
        diff[1].name in _IGNORED_INDEXES or diff[1].name.startswith(_OWN_INDEX_PREFIX)
    ):
        return False
    if kind == "modify_type" and diff[3] == "memories" and diff[4] == "embedding":
        return False
    return True


async def test_models_match_migrations(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            diffs = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()
    relevant = [d for d in diffs if _relevant(d)]
    assert relevant == [], relevant
