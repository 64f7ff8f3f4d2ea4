"""Incident queries: record, count offences in the window, list, review, resolve.

Every function takes the session; counting and listing filter by ``user_id`` when
one is given (admins list across users, the chat path only ever counts its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from companion.errors import NotFound
from companion.security.models import SecurityIncident
from companion.store.models import User

__all__ = [
    "ACTED",
    "IncidentFilter",
    "count_offences",
    "get_incident",
    "list_incidents",
    "read_level",
    "resolve_incidents",
    "set_level",
]

#: Actions that count as an offence (``logged`` incidents are for review only).
ACTED = ("block", "restrict", "suspended")


@dataclass(frozen=True)
class IncidentFilter:
    """Optional filters for the admin listing."""

    user_id: str | None = None
    category: str | None = None
    reviewed: bool | None = None
    false_positive: bool | None = None
    since: datetime | None = None
    limit: int = 50
    offset: int = 0


async def read_level(session: AsyncSession, *, user_id: str) -> tuple[int, str] | None:
    """``(security_level, status)`` of the user, or None when unknown."""
    row = (
        await session.execute(select(User.security_level, User.status).where(User.id == user_id))
    ).one_or_none()
    return None if row is None else (int(row[0]), str(row[1]))


async def set_level(session: AsyncSession, *, user_id: str, level: int) -> None:
    """Store the level; level 3 suspends, leaving 3 re-activates a suspended user."""
    values: dict[str, object] = {"security_level": level}
    current = await read_level(session, user_id=user_id)
    if current is None:
        raise NotFound(f"user {user_id!r} not found")
    if level >= 3:
        values["status"] = "suspended"
    elif current[1] == "suspended":
        values["status"] = "active"
    await session.execute(update(User).where(User.id == user_id).values(**values))


async def count_offences(session: AsyncSession, *, user_id: str, since: datetime) -> int:
    """Acted-on, unresolved, not-false-positive incidents of the user since ``since``."""
    query = select(func.count()).where(
        SecurityIncident.user_id == user_id,
        SecurityIncident.detected_at >= since,
        SecurityIncident.action.in_(ACTED),
        SecurityIncident.resolved_at.is_(None),
        SecurityIncident.false_positive.is_not(True),
    )
    return int((await session.execute(query)).scalar_one())


async def list_incidents(
    session: AsyncSession, filters: IncidentFilter
) -> Sequence[SecurityIncident]:
    """Incidents newest first, filtered."""
    query = select(SecurityIncident).order_by(
        SecurityIncident.detected_at.desc(), SecurityIncident.id.desc()
    )
    if filters.user_id is not None:
        query = query.where(SecurityIncident.user_id == filters.user_id)
    if filters.category is not None:
        query = query.where(SecurityIncident.incident_type == filters.category)
    if filters.reviewed is not None:
        query = query.where(SecurityIncident.admin_reviewed.is_(filters.reviewed))
    if filters.false_positive is not None:
        query = query.where(SecurityIncident.false_positive.is_(filters.false_positive))
    if filters.since is not None:
        query = query.where(SecurityIncident.detected_at >= filters.since)
    rows = await session.execute(query.limit(filters.limit).offset(filters.offset))
    return rows.scalars().all()


async def get_incident(session: AsyncSession, *, incident_id: int) -> SecurityIncident:
    """One incident, or ``NotFound``."""
    incident = await session.get(SecurityIncident, incident_id, populate_existing=True)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    return incident


async def resolve_incidents(session: AsyncSession, *, user_id: str) -> int:
    """Mark the user's open incidents resolved (they stop counting); returns how many."""
    result = await session.execute(
        update(SecurityIncident)
        .where(SecurityIncident.user_id == user_id, SecurityIncident.resolved_at.is_(None))
        .values(resolved_at=datetime.now(UTC))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
