"""The interaction log: one row per turn, read back per user."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from companion.errors import NotFound
from companion.store.models import Interaction

__all__ = ["get_interaction", "recent_interactions", "record_interaction"]


async def record_interaction(session: AsyncSession, *, user_id: str, **fields: Any) -> Interaction:
    """Insert the record of a turn for ``user_id``."""
    row = Interaction(user_id=user_id, **fields)
    session.add(row)
    await session.flush()
    return row


async def get_interaction(
    session: AsyncSession, *, user_id: str, interaction_id: int
) -> Interaction:
    """One of the user's interactions."""
    row = await session.scalar(
        select(Interaction).where(Interaction.id == interaction_id, Interaction.user_id == user_id)
    )
    if row is None:
        raise NotFound(f"interaction {interaction_id} not found")
    return row


async def recent_interactions(
    session: AsyncSession, *, user_id: str, limit: int = 20
) -> Sequence[Interaction]:
    """The user's latest interactions, newest first."""
    query = (
        select(Interaction)
        .where(Interaction.user_id == user_id)
        .order_by(Interaction.timestamp.desc(), Interaction.id.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()
