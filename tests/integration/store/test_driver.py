"""Statements run on the driver join the caller's transaction and are counted.

``companion.store.driver`` runs SQLAlchemy statements straight on asyncpg. What must
hold: a statement run first in a transaction is inside it (SQLAlchemy sends BEGIN
only with its own first statement), so a rollback undoes it and a later SQLAlchemy
statement in the same transaction sees it; JSON parameters are written as SQLAlchemy
writes them; every statement reaches SQLAlchemy's ``before_cursor_execute``
listeners.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, event, func, select, update
from tests.conftest import make_settings

from companion.settings import Settings
from companion.store import driver
from companion.store.database import Database
from companion.store.models import User
from companion.store.repositories import users

_RENAME = driver.DriverStatement(
    "rename a user",
    update(User).where(User.id == bindparam("who")).values(username=bindparam("name")),
)
_PREFERENCES = driver.DriverStatement(
    "set a user's preferences",
    update(User).where(User.id == bindparam("who")).values(preferences=bindparam("prefs")),
)
_NAME = driver.DriverStatement(
    "a user's name", select(User.username, User.preferences).where(User.id == bindparam("who"))
)


async def _db(database_url: str) -> Database:
    settings: Any = make_settings(database_url)
    assert isinstance(settings, Settings)
    return Database.from_settings(settings)


async def test_a_rollback_undoes_a_statement_run_first_on_the_driver(database_url: str) -> None:
    db = await _db(database_url)
    try:
        async with db.transaction() as session:
            await users.ensure_user(session, user_id="drv-1", username="before")
        try:
            async with db.transaction() as session:
                status = await driver.execute(session, _RENAME, {"who": "drv-1", "name": "after"})
                assert status == "UPDATE 1"
                # The same transaction, through SQLAlchemy, sees the driver's write.
                seen = await session.scalar(select(User.username).where(User.id == "drv-1"))
                assert seen == "after"
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        async with db.session() as session:
            row = await driver.fetchrow(session, _NAME, {"who": "drv-1"})
        assert row is not None and row["username"] == "before"
    finally:
        await db.close()


async def test_json_parameters_and_results_round_trip(database_url: str) -> None:
    db = await _db(database_url)
    try:
        async with db.transaction() as session:
            await users.ensure_user(session, user_id="drv-2")
            await driver.execute(
                session, _PREFERENCES, {"who": "drv-2", "prefs": {"tone": "warm", "n": [1, 2]}}
            )
        async with db.session() as session:
            stored = await session.scalar(select(User.preferences).where(User.id == "drv-2"))
            rows = await driver.fetch(session, _NAME, {"who": "drv-2"})
        assert stored == {"tone": "warm", "n": [1, 2]}
        assert [r["preferences"] for r in rows] == [{"tone": "warm", "n": [1, 2]}]
    finally:
        await db.close()


async def test_statements_reach_the_cursor_listeners(database_url: str) -> None:
    db = await _db(database_url)
    seen: list[str] = []

    def on_execute(*args: Any) -> None:
        seen.append(str(args[2]))

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        async with db.transaction() as session:
            await users.ensure_user(session, user_id="drv-3")
            before = len(seen)
            await driver.execute(session, _RENAME, {"who": "drv-3", "name": "x"})
            assert seen[before:] == [_RENAME.compiled.sql]
            count = await session.scalar(select(func.count()).select_from(User))
            assert count is not None and count >= 1
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        await db.close()
