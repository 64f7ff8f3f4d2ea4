"""``/api/admin``: users, system statistics, security incidents, user reset, jobs.

``GET /api/admin/jobs`` is the timetable (every job, next and last run);
``/api/admin/jobs/runs`` the run history; ``POST /api/admin/jobs/{name}/run`` runs one now.

Every route needs an admin key (403 otherwise). Incidents and personality resets
are the security and personality services' business; these routes only call them.
The security router's ``/api/security/incidents`` has the full filter set.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from companion.api.deps import AdminDep, ConversationDep, RuntimeDep, SessionDep
from companion.api.routes.security import IncidentOut
from companion.errors import ConfigError
from companion.jobs.schedule import run_now, schedule
from companion.personality import PersonalityService
from companion.security import IncidentFilter, SecurityService
from companion.store.models import User
from companion.store.repositories import jobs, users
from companion.store.repositories import stats as system_stats

__all__ = ["router"]

router = APIRouter(prefix="/api/admin", tags=["admin"])


class UserOut(BaseModel):
    """A user as the admin sees it."""

    id: str
    username: str | None
    status: str
    timezone: str
    created_at: datetime
    last_active: datetime | None
    total_interactions: int
    security_level: int
    proactive_messaging_enabled: bool


def _user(row: User) -> UserOut:
    return UserOut.model_validate(row, from_attributes=True)


@router.get("/users", response_model=list[UserOut])
async def list_users(
    _: AdminDep,
    session: SessionDep,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
    status: str | None = Query(None, pattern="^(active|inactive|suspended|deleted)$"),
) -> list[UserOut]:
    """All users, most recently active first."""
    rows = await users.list_users(session, limit=limit, offset=offset, status=status)
    return [_user(row) for row in rows]


@router.get("/users/{user_id}", response_model=UserOut)
async def get_user(user_id: str, _: AdminDep, session: SessionDep) -> UserOut:
    """One user."""
    return _user(await users.get_user(session, user_id=user_id))


@router.get("/stats")
async def stats(_: AdminDep, session: SessionDep) -> dict[str, Any]:
    """System-wide counts for the last day, the last five minutes and overall."""
    return await system_stats.system_counts(session)


@router.get("/security/incidents", response_model=list[IncidentOut])
async def incidents(
    _: AdminDep,
    runtime: RuntimeDep,
    limit: int = Query(50, ge=1, le=500),
    user_id: str | None = Query(None, max_length=100),
) -> list[IncidentOut]:
    """Recent security incidents, newest first (the security service's listing)."""
    security = runtime.security
    if not isinstance(security, SecurityService):
        raise ConfigError("security", "the security service is not wired in this process")
    rows = await security.list_incidents(IncidentFilter(user_id=user_id, limit=limit))
    return [IncidentOut.of(row) for row in rows]


class ResetOut(BaseModel):
    """What an admin reset did."""

    success: bool
    user_id: str
    preset: str
    conversation_reset: uuid.UUID | None


@router.post("/user/{user_id}/reset", response_model=ResetOut)
async def reset_user(
    user_id: str, _: AdminDep, runtime: RuntimeDep, service: ConversationDep
) -> ResetOut:
    """Destructive: personality back to the default preset, short-term context cleared."""
    async with runtime.db.transaction() as session:
        await users.get_user(session, user_id=user_id)
    personality = runtime.personality
    if not isinstance(personality, PersonalityService):
        raise ConfigError("personality", "the personality service is not wired in this process")
    preset = runtime.settings.behaviour.default_personality_preset
    await personality.set_preset(user_id=user_id, preset=preset)
    conversation_id = await service.reset(user_id)
    return ResetOut(
        success=True, user_id=user_id, preset=preset, conversation_reset=conversation_id
    )


@router.get("/jobs")
async def list_jobs(_: AdminDep, runtime: RuntimeDep) -> list[dict[str, Any]]:
    """Every scheduled job: trigger, next run, and its last run's outcome and duration."""
    return [job.to_dict() for job in await schedule(runtime)]


@router.get("/jobs/runs")
async def list_job_runs(
    _: AdminDep,
    session: SessionDep,
    job_name: str | None = Query(None, max_length=64),
    limit: int = Query(50, ge=1, le=500),
) -> list[dict[str, Any]]:
    """Latest job runs with their counts and errors, newest first."""
    rows = await jobs.list_job_runs(session, job_name=job_name, limit=limit)
    return [
        {
            "id": row.id,
            "job_name": row.job_name,
            "period_key": row.period_key,
            "status": row.status,
            "started_at": row.started_at.isoformat(),
            "finished_at": row.finished_at.isoformat() if row.finished_at else None,
            "users_processed": row.users_processed,
            "counts": row.counts,
            "errors": row.errors,
        }
        for row in rows
    ]


@router.post("/jobs/{job_name}/run")
async def run_job(job_name: str, _: AdminDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Run a job now, outside its timetable (waits up to 20 s for its summary)."""
    summary = await run_now(runtime, job_name)
    return summary or {"job": job_name, "status": "running"}
