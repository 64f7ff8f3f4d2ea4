"""A ``LazyReader`` lends one autocommit connection to a run of statements.

What must hold: nothing is checked out before the first statement; the statements
after it share that one connection; each statement commits by itself (no transaction
is left open on it); a failed statement gives the connection back, so the next one
starts on a fresh connection and works; ``close`` gives it back to the pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, text
from tests.conftest import make_settings

from companion.settings import Settings
from companion.store.database import Database
from companion.store.reader import LazyReader


@pytest.fixture
async def counted(database_url: str) -> AsyncIterator[tuple[Database, list[object]]]:
    """A database of its own, and the connections checked out of its pool."""
    settings: Any = make_settings(database_url)
    assert isinstance(settings, Settings)
    db = Database.from_settings(settings)
    checkouts: list[object] = []
    event.listen(db.engine.sync_engine.pool, "checkout", lambda *args: checkouts.append(args[0]))
    try:
        yield db, checkouts
    finally:
        await db.close()


async def test_statements_share_one_checkout_and_commit_each(
    counted: tuple[Database, list[object]],
) -> None:
    db, checkouts = counted
    try:
        async with LazyReader(db.engine) as reader:
            assert not reader.opened and checkouts == []
            async with reader.use() as conn:
                await conn.exec_driver_sql("CREATE TABLE lazy_reader_t (n int)")
            async with reader.use() as conn:
                await conn.exec_driver_sql("INSERT INTO lazy_reader_t VALUES (1)")
            # Committed already: another connection sees the row while the reader is open.
            async with db.engine.connect() as other:
                seen = (await other.execute(text("SELECT count(*) FROM lazy_reader_t"))).scalar()
            assert seen == 1
        assert len(checkouts) == 2  # the reader's one, and the other
        assert db.engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        async with db.engine.begin() as conn:  # the suite's database keeps the schema's tables
            await conn.exec_driver_sql("DROP TABLE IF EXISTS lazy_reader_t")


async def test_a_failed_statement_gives_the_connection_back(
    counted: tuple[Database, list[object]],
) -> None:
    db, checkouts = counted
    async with LazyReader(db.engine) as reader:
        with pytest.raises(Exception, match="no_such_table"):
            async with reader.use() as conn:
                await conn.exec_driver_sql("SELECT * FROM no_such_table")
        assert not reader.opened
        assert db.engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        async with reader.use() as conn:
            assert (await conn.exec_driver_sql("SELECT 41 + 1")).scalar() == 42
    assert len(checkouts) == 2
