"""Read-only queries the web pages need and no domain service offers.

System-wide figures for the admin overview (turns, latency percentiles, model and
fallback usage, errors, incidents, hourly series), user search, a user's messages by
id and their interactions. Only admins' pages call the system-wide ones; every
per-user function filters by ``user_id``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Float, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from companion.memory.models import MemoryConflict
from companion.security.models import SecurityIncident
from companion.store.models import Interaction, LLMCall, Message, User

__all__ = [
    "HourPoint",
    "Overview",
    "conflicts",
    "hourly",
    "interaction_for_reply",
    "messages_by_id",
    "model_usage",
    "overview",
    "search_users",
]


@dataclass(frozen=True)
class Overview:
    """The headline numbers of the dashboard."""

    users: int
    active_today: int
    turns_last_hour: int
    turns_per_minute: float
    turns_24h: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    errors_24h: int
    fallback_turns_24h: int
    incidents_24h: int
    open_incidents: int


@dataclass(frozen=True)
class HourPoint:
    """One hour of the last day."""

    hour: datetime
    turns: int
    p95_ms: float | None
    errors: int


def _percentiles(column: Any) -> tuple[Any, Any]:
    return (
        func.percentile_cont(0.5).within_group(cast(column, Float)),
        func.percentile_cont(0.95).within_group(cast(column, Float)),
    )


async def overview(session: AsyncSession, *, now: datetime | None = None) -> Overview:
    """Counts over users, the last hour and the last day."""
    now = now or datetime.now(UTC)
    day, hour = now - timedelta(days=1), now - timedelta(hours=1)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    p50, p95 = _percentiles(Interaction.response_time_ms)
    turns = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(Interaction.timestamp >= hour),
                func.count().filter(Interaction.error_occurred),
                func.count().filter(Interaction.fallback_used),
                p50,
                p95,
            ).where(Interaction.timestamp >= day, Interaction.is_proactive.is_(False))
        )
    ).one()
    users = (
        await session.execute(
            select(func.count(), func.count().filter(User.last_active >= midnight))
        )
    ).one()
    incidents = (
        await session.execute(
            select(
                func.count().filter(SecurityIncident.detected_at >= day),
                func.count().filter(SecurityIncident.admin_reviewed.is_(False)),
            )
        )
    ).one()
    last_hour = int(turns[1])
    return Overview(
        users=int(users[0]),
        active_today=int(users[1]),
        turns_last_hour=last_hour,
        turns_per_minute=round(last_hour / 60, 2),
        turns_24h=int(turns[0]),
        latency_p50_ms=round(turns[4], 1) if turns[4] is not None else None,
        latency_p95_ms=round(turns[5], 1) if turns[5] is not None else None,
        errors_24h=int(turns[2]),
        fallback_turns_24h=int(turns[3]),
        incidents_24h=int(incidents[0]),
        open_incidents=int(incidents[1]),
    )


async def hourly(session: AsyncSession, *, now: datetime | None = None) -> list[HourPoint]:
    """Turns, p95 latency and errors per hour over the last day (hours with turns)."""
    now = now or datetime.now(UTC)
    bucket = func.date_trunc("hour", Interaction.timestamp).label("hour")
    _, p95 = _percentiles(Interaction.response_time_ms)
    rows = await session.execute(
        select(bucket, func.count(), p95, func.count().filter(Interaction.error_occurred))
        .where(Interaction.timestamp >= now - timedelta(days=1))
        .group_by(bucket)
        .order_by(bucket)
    )
    return [
        HourPoint(hour=h, turns=int(n), p95_ms=float(p) if p is not None else None, errors=int(e))
        for h, n, p, e in rows
    ]


async def model_usage(
    session: AsyncSession, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Model calls of the last day by role, provider and model."""
    now = now or datetime.now(UTC)
    p50, _ = _percentiles(LLMCall.latency_ms)
    rows = await session.execute(
        select(
            LLMCall.role,
            LLMCall.provider,
            LLMCall.model,
            func.count(),
            func.count().filter(LLMCall.fallback_used),
            func.count().filter(LLMCall.success.is_(False)),
            p50,
        )
        .where(LLMCall.created_at >= now - timedelta(days=1))
        .group_by(LLMCall.role, LLMCall.provider, LLMCall.model)
        .order_by(func.count().desc())
    )
    return [
        {
            "role": role,
            "provider": provider,
            "model": model,
            "calls": int(calls),
            "fallback": int(fallback),
            "failed": int(failed),
            "latency_p50_ms": round(float(latency), 1) if latency is not None else None,
        }
        for role, provider, model, calls, fallback, failed, latency in rows
    ]


async def search_users(
    session: AsyncSession, *, query: str = "", limit: int = 50, offset: int = 0
) -> Sequence[User]:
    """Users whose id, username or display name contains ``query``, latest active first."""
    statement = select(User).order_by(User.last_active.desc().nulls_last(), User.id)
    if query.strip():
        pattern = "%" + query.strip().replace("\\", "\\\\").replace("%", r"\%") + "%"
        statement = statement.where(
            or_(
                User.id.ilike(pattern),
                User.username.ilike(pattern),
                User.display_name.ilike(pattern),
            )
        )
    return (await session.scalars(statement.limit(limit).offset(offset))).all()


async def messages_by_id(
    session: AsyncSession, *, user_id: str, ids: Sequence[str]
) -> dict[str, Message]:
    """The user's messages whose id or external id is in ``ids`` (provenance links)."""
    numeric = [int(i) for i in ids if i.isdigit()]
    textual = [i for i in ids if not i.isdigit()]
    if not ids:
        return {}
    clauses = []
    if numeric:
        clauses.append(Message.id.in_(numeric))
    if textual:
        clauses.append(Message.external_id.in_(textual))
    rows = await session.scalars(
        select(Message).where(and_(Message.user_id == user_id, or_(*clauses)))
    )
    found: dict[str, Message] = {}
    for row in rows:
        found[str(row.id)] = row
        if row.external_id:
            found[row.external_id] = row
    return found


async def interaction_for_reply(
    session: AsyncSession, *, user_id: str, conversation_id: uuid.UUID
) -> dict[int, Interaction]:
    """The conversation's interactions keyed by their reply message id."""
    rows = await session.scalars(
        select(Interaction).where(
            Interaction.user_id == user_id,
            Interaction.session_id == conversation_id,
            Interaction.reply_message_id.is_not(None),
        )
    )
    return {int(r.reply_message_id): r for r in rows if r.reply_message_id is not None}


async def conflicts(
    session: AsyncSession, *, user_id: str, limit: int = 20
) -> Sequence[MemoryConflict]:
    """The user's latest memory conflicts (contradictions, corrections), newest first."""
    query = (
        select(MemoryConflict)
        .where(MemoryConflict.user_id == user_id)
        .order_by(MemoryConflict.detected_at.desc(), MemoryConflict.id.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()
