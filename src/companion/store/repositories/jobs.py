"""Job runs, read for the admin API (jobs are system-wide, not per user)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from companion.store.models import JobRun

__all__ = ["last_runs", "list_job_runs"]


async def list_job_runs(
    session: AsyncSession, *, job_name: str | None = None, limit: int = 50
) -> Sequence[JobRun]:
    """The latest runs, newest first, optionally of one job."""
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job_name is not None:
        query = query.where(JobRun.job_name == job_name)
    return (await session.scalars(query)).all()


async def last_runs(session: AsyncSession) -> dict[str, JobRun]:
    """The latest run of every job that ever ran, by job name."""
    query = (
        select(JobRun)
        .ext(distinct_on(JobRun.job_name))
        .order_by(JobRun.job_name, JobRun.started_at.desc(), JobRun.id.desc())
    )
    return {row.job_name: row for row in (await session.scalars(query)).all()}
