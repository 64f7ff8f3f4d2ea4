"""Deleting an account: every row of one user, in one transaction, then their keys.

Used by ``DELETE /api/users/{user_id}``, ``companion users delete`` and the bots'
"delete my data" commands. Generic over the schema, like the export: every table with
a ``user_id`` column is covered, those with a foreign key to ``users`` by
``ON DELETE CASCADE`` and the others (bookkeeping such as ``llm_calls`` and
``job_user_marks``) explicitly. Before committing, the same transaction checks that
no row of the user is left anywhere; if one is, nothing is deleted. Folders the user
owns on disk (the tool agent's workspace) are removed after the commit.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from companion.errors import NotFound, StoreError
from companion.store.database import Database
from companion.store.kv import KeyValueStore, glob_escape
from companion.store.models import User

__all__ = ["delete_account", "erase_user_rows"]


def _cascades_from_users(table: Any) -> bool:
    return any(
        fk.parent.name == "user_id" and fk.column.table.name == "users" for fk in table.foreign_keys
    )


async def _counts(session: AsyncSession, user_id: str) -> dict[str, int]:
    from companion.store.schema import metadata, user_tables

    counts: dict[str, int] = {}
    for name in user_tables():
        table = metadata.tables[name]
        query = select(func.count()).select_from(table).where(table.c.user_id == user_id)
        found = int(await session.scalar(query) or 0)
        if found:
            counts[name] = found
    return counts


async def erase_user_rows(session: AsyncSession, *, user_id: str) -> dict[str, int]:
    """Delete the user's row and every row they own (in ``session``'s transaction).

    Returns rows removed per table (``users`` included). Raises ``NotFound`` for an
    unknown user and ``StoreError`` (rolling everything back) if a row would remain.
    """
    from companion.store.schema import metadata, user_tables

    # Locks the user row: a turn that starts meanwhile waits, then finds no user.
    found = await session.scalar(select(User.id).where(User.id == user_id).with_for_update())
    if found is None:
        raise NotFound(f"user {user_id!r} not found")
    counts = await _counts(session, user_id)
    for name in user_tables():
        table = metadata.tables[name]
        if not _cascades_from_users(table):
            await session.execute(delete(table).where(table.c.user_id == user_id))
    await session.execute(delete(User).where(User.id == user_id))
    left = await _counts(session, user_id)
    if left:
        raise StoreError(f"deleting user {user_id!r} left rows in {', '.join(sorted(left))}")
    counts["users"] = 1
    return counts


async def delete_account(
    db: Database, kv: KeyValueStore, *, user_id: str, folders: Sequence[Path] = ()
) -> dict[str, int]:
    """Delete everything of ``user_id``: rows in one transaction, then their cached keys
    and ``folders`` (the user's own folders on disk, such as the tool workspace).

    Returns counts per table plus ``kv_keys`` (short-term buffers, counters, locks) and
    ``folders`` (how many of ``folders`` existed and were removed).
    """
    async with db.transaction() as session:
        counts = await erase_user_rows(session, user_id=user_id)
    counts["kv_keys"] = await kv.delete_pattern(f"user:{glob_escape(user_id)}:*")
    counts["folders"] = _remove_folders(folders)
    return counts


def _remove_folders(folders: Sequence[Path]) -> int:
    removed = 0
    for folder in folders:
        if folder.is_symlink():  # never follow a link out of our own tree
            folder.unlink()
            removed += 1
        elif folder.is_dir():
            shutil.rmtree(folder)
            removed += 1
    return removed
