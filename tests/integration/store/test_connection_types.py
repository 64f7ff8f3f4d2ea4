"""A pooled connection looks up the types our statements use once, when it opens.

asyncpg has no codec for pgvector's ``vector`` nor for arrays until it has read them
from the server's catalog, with a catalog query that is slow to plan; met one statement
at a time, that was four or five lookups per new connection.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from tests.conftest import make_settings

from companion.settings import Settings
from companion.store.database import Database

_STATEMENTS = {
    "SELECT CAST(:v AS vector)": {"v": "[1,2,3]"},
    "SELECT CAST(:a AS bigint[])": {"a": [1, 2]},
    "SELECT CAST(:a AS integer[])": {"a": [1, 2]},
    "SELECT CAST(:a AS varchar[])": {"a": ["x", "y"]},
    "SELECT CAST(:a AS uuid[])": {"a": [uuid.UUID(int=7)]},
    "SELECT CAST(:a AS real[])": {"a": [0.5, 1.5]},
    "SELECT CAST(:a AS float8[])": {"a": [0.5, 1.5]},
    "SELECT CAST(:a AS boolean[])": {"a": [True, False]},
}


async def test_a_new_connection_looks_its_types_up_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[int] = []
    original = asyncpg.Connection._introspect_types

    async def counted(self: Any, typeoids: Any, timeout: Any) -> Any:
        lookups.append(len(typeoids))
        return await original(self, typeoids, timeout)

    monkeypatch.setattr(asyncpg.Connection, "_introspect_types", counted)
    settings: Any = make_settings(database_url, DB_POOL_MIN_SIZE="1", DB_POOL_MAX_SIZE="1")
    assert isinstance(settings, Settings)
    db = Database.from_settings(settings)
    try:
        await db.warm(1)
        assert len(lookups) == 1  # every type at once, when the connection opened
        async with db.engine.connect() as conn:
            values = [
                (await conn.execute(text(sql), params)).scalar_one()
                for sql, params in _STATEMENTS.items()
            ]
        assert len(lookups) == 1  # none of the statements needed another lookup
        # a vector reads through the binary codec, text sent (parsed by the codec) or not
        assert values[0].tolist() == [1.0, 2.0, 3.0]
        assert values[1:] == [
            [1, 2], [1, 2], ["x", "y"], [uuid.UUID(int=7)], [0.5, 1.5], [0.5, 1.5], [True, False]
        ]  # fmt: skip
    finally:
        await db.close()
