"""API keys: created once (the secret is shown once), stored as a SHA-256 digest.

A key is 32 random bytes, so a fast digest is enough (no dictionary to attack); the
lookup is by digest, which also keeps the comparison constant-time in effect.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from companion.errors import NotFound
from companion.store.models import ApiKey

__all__ = [
    "KEY_PREFIX",
    "count_live_keys",
    "create_api_key",
    "find_api_key",
    "hash_key",
    "key_is_live",
    "key_view",
    "list_api_keys",
    "revoke_api_key",
    "rotate_api_key",
]

KEY_PREFIX = "ck_"


def hash_key(secret: str) -> str:
    """The stored digest of a key."""
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_api_key(
    session: AsyncSession, *, user_id: str, is_admin: bool = False, name: str | None = None
) -> tuple[ApiKey, str]:
    """Create a key for ``user_id``; returns the row and the secret (never stored)."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        user_id=user_id, key_hash=hash_key(secret), prefix=secret[:10], is_admin=is_admin, name=name
    )
    session.add(row)
    await session.flush()
    return row, secret


async def find_api_key(session: AsyncSession, *, secret: str) -> ApiKey | None:
    """The live key matching ``secret``; marks it used."""
    now = datetime.now(UTC)
    row = await session.scalar(
        select(ApiKey).where(
            ApiKey.key_hash == hash_key(secret),
            ApiKey.revoked_at.is_(None),
            or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
        )
    )
    if row is not None:
        row.last_used_at = now
    return row


def key_view(row: ApiKey, *, now: datetime | None = None) -> dict[str, object]:
    """What may be shown about a key: never the secret or its digest.

    ``status`` is ``active``, ``expiring`` (rotated, still in its grace period),
    ``expired`` or ``revoked``.
    """
    now = now or datetime.now(UTC)
    if row.revoked_at is not None:
        status = "revoked"
    elif row.expires_at is not None:
        status = "expiring" if row.expires_at > now else "expired"
    else:
        status = "active"

    def stamp(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": row.id,
        "user_id": row.user_id,
        "name": row.name,
        "prefix": row.prefix,
        "admin": row.is_admin,
        "status": status,
        "created_at": stamp(row.created_at),
        "last_used_at": stamp(row.last_used_at),
        "expires_at": stamp(row.expires_at),
        "revoked_at": stamp(row.revoked_at),
    }


async def list_api_keys(session: AsyncSession, *, user_id: str) -> Sequence[ApiKey]:
    """The user's keys (digests only)."""
    query = select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.id)
    return (await session.scalars(query)).all()


async def revoke_api_key(session: AsyncSession, *, user_id: str | None, key_id: int) -> ApiKey:
    """Revoke a key at once (``user_id=None``: any user's, for admins and the CLI).

    A process that remembers the key as live (``companion.api.key_cache``) refuses it
    once its entry runs out, within API_KEY_CACHE_SECONDS.
    """
    query = select(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    row = await session.scalar(query.with_for_update())
    if row is None:
        raise NotFound(f"API key {key_id} not found (or already revoked)")
    row.revoked_at = datetime.now(UTC)
    await session.flush()
    return row


async def rotate_api_key(
    session: AsyncSession, *, user_id: str | None, key_id: int, grace: timedelta
) -> tuple[ApiKey, str]:
    """A new key with the same user, role and name; the old one expires after ``grace``.

    Returns the new row and its secret (shown once). Rotating an already expiring key
    does not extend its life.
    """
    query = select(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    old = await session.scalar(query.with_for_update())
    now = datetime.now(UTC)
    if old is None or (old.expires_at is not None and old.expires_at <= now):
        raise NotFound(f"API key {key_id} not found (or revoked or expired)")
    until = now + grace
    old.expires_at = until if old.expires_at is None else min(old.expires_at, until)
    return await create_api_key(session, user_id=old.user_id, is_admin=old.is_admin, name=old.name)


async def count_live_keys(session: AsyncSession) -> int:
    """How many unrevoked keys exist (zero on a fresh install)."""
    now = datetime.now(UTC)
    query = (
        select(func.count())
        .select_from(ApiKey)
        .where(
            ApiKey.revoked_at.is_(None), or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now)
        )
    )
    return int(await session.scalar(query) or 0)


async def key_is_live(session: AsyncSession, *, key_id: int) -> bool:
    """Whether key ``key_id`` exists and is not revoked (browser sessions re-check it)."""
    now = datetime.now(UTC)
    query = select(ApiKey.id).where(
        ApiKey.id == key_id,
        ApiKey.revoked_at.is_(None),
        or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
    )
    return await session.scalar(query) is not None
