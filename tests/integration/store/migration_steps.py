"""What a data-carrying migration's test does: find the revision before it, run SQL."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


def previous_revision(revision: str) -> str:
    """The revision ``revision`` follows (whatever the chain is re-ordered to)."""
    from alembic.script import ScriptDirectory

    from companion.store.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("", vector_dimensions=384))
    previous = script.get_revision(revision).down_revision
    assert isinstance(previous, str)
    return previous


async def run_sql(url: str, *statements: str) -> list[tuple[object, ...]]:
    """Run ``statements`` in one transaction; the last one's rows, if it returns any."""
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
