"""The job timetable as people read it: each job, its next run, its last outcome.

The next run comes from the job's trigger (so a standby process, or one with the
scheduler disabled, still shows when the leader will run it); the last run is the
newest ``job_runs`` row. ``run_now`` starts a job outside its timetable under a
``manual:`` period, so it runs even when this period's run already happened.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from companion.jobs.definitions import JOBS
from companion.jobs.runner import JobRunner
from companion.store.repositories import jobs as job_runs

if TYPE_CHECKING:
    from companion.jobs.services import JobServices

__all__ = ["ScheduledJob", "describe", "run_now", "schedule"]


@dataclass(frozen=True)
class ScheduledJob:
    """One job of the timetable with its latest run."""

    name: str
    description: str
    trigger: str
    next_run: datetime | None
    last_status: str | None
    last_started: datetime | None
    last_finished: datetime | None
    last_duration_s: float | None
    last_period: str | None
    last_counts: dict[str, Any] | None
    last_errors: list[Any] | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""

        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "job_name": self.name,
            "description": self.description,
            "trigger": self.trigger,
            "next_run": iso(self.next_run),
            "status": self.last_status or "never run",
            "last_run": None
            if self.last_started is None
            else {
                "status": self.last_status,
                "period_key": self.last_period,
                "started_at": iso(self.last_started),
                "finished_at": iso(self.last_finished),
                "duration_s": self.last_duration_s,
                "counts": self.last_counts,
                "errors": self.last_errors,
            },
        }


def describe(trigger: BaseTrigger) -> str:
    """A trigger in words: "every 0:05:00" or "daily at 03:00 UTC"."""
    if isinstance(trigger, IntervalTrigger):
        return f"every {trigger.interval}"
    if isinstance(trigger, CronTrigger):
        fields = {f.name: str(f) for f in trigger.fields}
        if fields["day"] == "*" and fields["day_of_week"] == "*" and fields["hour"].isdigit():
            return f"daily at {int(fields['hour']):02d}:{int(fields['minute']):02d} UTC"
    return str(trigger)


async def schedule(runtime: JobServices, *, now: datetime | None = None) -> list[ScheduledJob]:
    """Every scheduled job in timetable order, with its next and last run."""
    now = now or datetime.now(UTC)
    settings = runtime.settings.behaviour
    async with runtime.db.session() as session:
        last = await job_runs.last_runs(session)
    out = []
    for spec in JOBS.values():
        trigger = spec.trigger(settings)
        next_run = trigger.get_next_fire_time(None, now)
        run = last.get(spec.name)
        duration = None
        if run is not None and run.finished_at is not None:
            duration = round((run.finished_at - run.started_at).total_seconds(), 2)
        out.append(
            ScheduledJob(
                name=spec.name,
                description=spec.description,
                trigger=describe(trigger),
                next_run=next_run,
                last_status=run.status if run else None,
                last_started=run.started_at if run else None,
                last_finished=run.finished_at if run else None,
                last_duration_s=duration,
                last_period=run.period_key if run else None,
                last_counts=run.counts if run else None,
                last_errors=run.errors if run else None,
            )
        )
    return out


_RUNNING: set[asyncio.Task[dict[str, Any]]] = set()


async def run_now(runtime: JobServices, name: str, *, wait: float = 20.0) -> dict[str, Any] | None:
    """Run job ``name`` now; its summary, or None if still running after ``wait`` seconds.

    A job that outlives ``wait`` keeps running in the background (its ``job_runs`` row
    shows the outcome).
    """
    runner = JobRunner(runtime)
    runner.spec(name)  # unknown names fail here, before anything starts
    now = datetime.now(UTC)
    task = asyncio.create_task(runner.run(name, now=now, period=f"manual:{now:%Y-%m-%dT%H:%M:%S}"))
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    with contextlib.suppress(TimeoutError):
        return await asyncio.wait_for(asyncio.shield(task), wait)
    return None
