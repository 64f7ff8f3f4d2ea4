"""Job bookkeeping over ``job_runs`` and ``job_user_marks``.

A run is one execution of a job for a *period* (``reflection`` for ``2026-11-21``).
Whole-system jobs run once per period; per-user jobs mark each user when done, so a
rerun for the same period skips them and a run that crashed resumes where it left
off. A ``running`` row found when a new run of the same job starts can only be from
a process that died (one leader runs jobs), so it is closed as ``abandoned``.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from companion.store.database import Database
from companion.store.models import JobRun, JobUserMark

__all__ = [
    "already_done",
    "finish_run",
    "mark_users",
    "pending_users",
    "prune_marks",
    "start_run",
]


async def already_done(db: Database, *, job: str, period: str) -> bool:
    """Whether ``job`` already finished successfully for ``period``."""
    async with db.session() as session:
        found = await session.scalar(
            select(JobRun.id).where(
                JobRun.job_name == job, JobRun.period_key == period, JobRun.status == "succeeded"
            )
        )
    return found is not None


async def start_run(db: Database, *, job: str, period: str) -> int:
    """Open a run row (closing stale ``running`` rows of the same job first)."""
    async with db.transaction() as session:
        await session.execute(
            update(JobRun)
            .where(JobRun.job_name == job, JobRun.status == "running")
            .values(status="abandoned", finished_at=datetime.now(UTC))
        )
        row = JobRun(job_name=job, period_key=period, status="running", host=socket.gethostname())
        session.add(row)
        await session.flush()
        return row.id


async def finish_run(
    db: Database,
    run_id: int,
    *,
    status: str,
    users: int,
    counts: dict[str, Any],
    errors: list[dict[str, str]],
) -> None:
    """Close a run with its outcome."""
    async with db.transaction() as session:
        await session.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(
                status=status,
                finished_at=datetime.now(UTC),
                users_processed=users,
                counts=counts,
                errors=errors[:100],
            )
        )


async def pending_users(
    db: Database, *, job: str, period: str, candidates: Sequence[str]
) -> list[str]:
    """``candidates`` not yet marked done for ``job`` and ``period``, in order."""
    async with db.session() as session:
        done = set(
            (
                await session.scalars(
                    select(JobUserMark.user_id).where(
                        JobUserMark.job_name == job, JobUserMark.period_key == period
                    )
                )
            ).all()
        )
    return [u for u in candidates if u not in done]


async def mark_users(db: Database, *, job: str, period: str, user_ids: Sequence[str]) -> None:
    """Mark users done (idempotent)."""
    if not user_ids:
        return
    async with db.transaction() as session:
        await session.execute(
            insert(JobUserMark)
            .values([{"job_name": job, "period_key": period, "user_id": u} for u in user_ids])
            .on_conflict_do_nothing()
        )


async def prune_marks(db: Database, *, now: datetime, keep_days: int = 30) -> int:
    """Forget marks older than ``keep_days`` (their periods will never run again)."""
    async with db.transaction() as session:
        result = await session.execute(
            delete(JobUserMark).where(JobUserMark.done_at < now - timedelta(days=keep_days))
        )
    return int(result.rowcount)  # type: ignore[attr-defined]
