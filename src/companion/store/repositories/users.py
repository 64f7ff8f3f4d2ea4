"""Users and their companions: create on first contact, read, update, delete in one go."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from companion.errors import InvalidInput, NotFound
from companion.store import driver
from companion.store.models import USER_STATUSES, User

__all__ = [
    "TOUCH",
    "delete_user",
    "ensure_standing",
    "ensure_user",
    "get_user",
    "list_users",
    "set_user_status",
    "touch_user",
    "update_user",
]

_EDITABLE = {
    "username",
    "display_name",
    "timezone",
    "preferred_language",
    "preferences",
    "channels",
    "data_retention_days",
    "analytics_consent",
    "proactive_messaging_enabled",
    "quiet_hours",
}


_USERS = cast(Table, User.__table__)


async def ensure_user(session: AsyncSession, *, user_id: str, username: str | None = None) -> User:
    """Return the user, creating it on first contact (safe under concurrency)."""
    if not user_id or len(user_id) > 100:
        raise InvalidInput("user_id must be 1-100 characters")
    found = await session.get(User, user_id, populate_existing=True)
    if found is not None:  # the common case: one read, no write
        return found
    await session.execute(
        insert(User)
        .values(id=user_id, username=username, last_active=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=[User.id])
    )
    return await get_user(session, user_id=user_id)


_STANDING = driver.DriverStatement(
    "the user's standing",
    select(_USERS.c.security_level, _USERS.c.status).where(_USERS.c.id == bindparam("standing_of")),
)


async def standing(conn: AsyncSession | AsyncConnection, *, user_id: str) -> tuple[int, str] | None:
    """The user's ``(security_level, status)``, or ``None`` for a user not stored yet
    (creates nothing: a statement of its own on an autocommit connection)."""
    row = await driver.fetchrow(conn, _STANDING, {"standing_of": user_id})
    return None if row is None else (int(row[0]), str(row[1]))


async def ensure_standing(
    session: AsyncSession, *, user_id: str, username: str | None = None
) -> tuple[int, str]:
    """``ensure_user`` for the turn path: the user's ``(security_level, status)``.

    Two columns and no ORM object for a known user; a new one is created first.
    """
    found = await standing(session, user_id=user_id)
    if found is None:
        user = await ensure_user(session, user_id=user_id, username=username)
        return int(user.security_level), str(user.status)
    return found


async def get_user(session: AsyncSession, *, user_id: str) -> User:
    """The user, or ``NotFound``."""
    user = await session.get(User, user_id, populate_existing=True)
    if user is None:
        raise NotFound(f"user {user_id!r} not found")
    return user


async def update_user(session: AsyncSession, *, user_id: str, changes: dict[str, Any]) -> User:
    """Change the editable profile fields of one user."""
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise InvalidInput(f"cannot change field(s): {', '.join(sorted(unknown))}")
    if changes:
        result = await session.execute(update(User).where(User.id == user_id).values(**changes))
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(f"user {user_id!r} not found")
    return await get_user(session, user_id=user_id)


async def set_user_status(session: AsyncSession, *, user_id: str, status: str) -> None:
    """Set the lifecycle status (active, inactive, suspended, deleted)."""
    if status not in USER_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(USER_STATUSES)}")
    result = await session.execute(update(User).where(User.id == user_id).values(status=status))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"user {user_id!r} not found")


#: Activity of user ``touch_user``: last_active now, ``touch_count`` more interactions
#: (``touch_user``; the turn's write transaction runs it as part of one statement).
TOUCH = (
    update(_USERS)
    .where(_USERS.c.id == bindparam("touch_user"))
    .values(
        last_active=func.now(),
        total_interactions=_USERS.c.total_interactions + bindparam("touch_count"),
    )
)


async def touch_user(session: AsyncSession, *, user_id: str, interactions: int = 1) -> None:
    """Record activity: last_active now, and count the interactions."""
    await session.execute(TOUCH, {"touch_user": user_id, "touch_count": interactions})


async def delete_user(session: AsyncSession, *, user_id: str) -> None:
    """Delete the user and, through ON DELETE CASCADE, every row they own."""
    result = await session.execute(delete(User).where(User.id == user_id))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"user {user_id!r} not found")


async def list_users(
    session: AsyncSession, *, limit: int = 50, offset: int = 0, status: str | None = None
) -> Sequence[User]:
    """All users, newest activity first (admin only; not a per-user read)."""
    query = select(User).order_by(User.last_active.desc().nulls_last(), User.id)
    if status is not None:
        query = query.where(User.status == status)
    return (await session.scalars(query.limit(limit).offset(offset))).all()
