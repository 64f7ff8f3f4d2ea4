"""System-wide counts for admins (``GET /api/admin/stats``, Telegram's ``/status``).

The only reads here that span users on purpose: they return counts, never content.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from companion.store.models import Conversation, Interaction, JobRun, Message, User

__all__ = ["system_counts"]


async def system_counts(session: AsyncSession, *, now: datetime | None = None) -> dict[str, Any]:
    """Users, conversations, messages and turns overall, in the last day and five minutes."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=1)
    recent = select(func.count(), func.avg(Interaction.response_time_ms)).where(
        Interaction.timestamp >= since
    )
    count_day, avg_ms = (await session.execute(recent)).one()
    errors_day = await session.scalar(
        select(func.count()).where(Interaction.timestamp >= since, Interaction.error_occurred)
    )
    active_day = await session.scalar(
        select(func.count()).select_from(User).where(User.last_active >= since)
    )
    last_5m = await session.scalar(
        select(func.count()).where(Interaction.timestamp >= now - timedelta(minutes=5))
    )
    return {
        "users": await session.scalar(select(func.count()).select_from(User)),
        "active_users_24h": active_day,
        "conversations": await session.scalar(select(func.count()).select_from(Conversation)),
        "messages": await session.scalar(select(func.count()).select_from(Message)),
        "interactions": await session.scalar(select(func.count()).select_from(Interaction)),
        "interactions_24h": count_day,
        "interactions_5m": last_5m,
        "errors_24h": errors_day,
        "avg_response_time_ms_24h": round(float(avg_ms), 1) if avg_ms is not None else None,
        "job_runs": await session.scalar(select(func.count()).select_from(JobRun)),
    }
