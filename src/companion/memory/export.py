"""Everything stored about one user, as JSON-ready data (user control: export).

Generic over the schema, so a table added later by any domain is exported too: every
table with a ``user_id`` column, filtered by it, plus the ``users`` row. Secrets never
leave: API key hashes and anything named like a secret are dropped, and vectors
(``embedding``, ``tsv``) are derived data that ``companion reembed`` can rebuild.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["export_user"]

_SECRET_WORDS = ("hash", "secret", "token", "password")
_DERIVED = {"embedding", "tsv"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value) if isinstance(value, uuid.UUID) else float(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _exported_columns(table_name: str) -> list[Any]:
    from companion.store.schema import metadata

    table = metadata.tables[table_name]
    return [
        column
        for column in table.c
        if column.name not in _DERIVED and not any(w in column.name for w in _SECRET_WORDS)
    ]


async def export_user(session: AsyncSession, *, user_id: str) -> dict[str, Any]:
    """``{"user": {...}, "tables": {name: [rows]}}`` for ``user_id`` only."""
    # Imported here: the schema imports every domain's models, this package included.
    from companion.store.schema import metadata, user_tables

    users = metadata.tables["users"]
    profile = (
        (await session.execute(select(*_exported_columns("users")).where(users.c.id == user_id)))
        .mappings()
        .first()
    )
    tables: dict[str, list[dict[str, Any]]] = {}
    for name in user_tables():
        table = metadata.tables[name]
        rows = (
            (
                await session.execute(
                    select(*_exported_columns(name)).where(table.c.user_id == user_id)
                )
            )
            .mappings()
            .all()
        )
        tables[name] = [{k: _jsonable(v) for k, v in row.items()} for row in rows]
    return {
        "user_id": user_id,
        "exported_at": datetime.now().astimezone().isoformat(),
        "user": None if profile is None else {k: _jsonable(v) for k, v in profile.items()},
        "tables": tables,
    }
