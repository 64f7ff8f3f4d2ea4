"""API keys: created once (the secret is shown once), stored as a SHA-256 digest.

A key is 32 random bytes, so a fast digest is enough (no dictionary to attack); the
lookup is by digest, which also keeps the comparison constant-time in effect.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select, update
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
    "list_api_keys",
    "revoke_api_key",
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
    row = await session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(secret), ApiKey.revoked_at.is_(None))
    )
    if row is not None:
        row.last_used_at = datetime.now(UTC)
    return row


async def list_api_keys(session: AsyncSession, *, user_id: str) -> Sequence[ApiKey]:
    """The user's keys (digests only)."""
    query = select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.id)
    return (await session.scalars(query)).all()


async def revoke_api_key(session: AsyncSession, *, user_id: str, key_id: int) -> None:
    """Revoke one of the user's keys."""
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"API key {key_id} not found")


async def count_live_keys(session: AsyncSession) -> int:
    """How many unrevoked keys exist (zero on a fresh install)."""
    query = select(func.count()).select_from(ApiKey).where(ApiKey.revoked_at.is_(None))
    return int(await session.scalar(query) or 0)


async def key_is_live(session: AsyncSession, *, key_id: int) -> bool:
    """Whether key ``key_id`` exists and is not revoked (browser sessions re-check it)."""
    query = select(ApiKey.id).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
    return await session.scalar(query) is not None
