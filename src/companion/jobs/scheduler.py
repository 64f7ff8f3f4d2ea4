"""The background scheduler: APScheduler under exactly one leader across processes.

Every ``companion serve`` (with SCHEDULER_ENABLED) and ``companion worker`` runs a
``Scheduler``; each keeps trying the advisory lock every ``retry_seconds``. The
holder starts an ``AsyncIOScheduler`` with the jobs of ``definitions.JOBS``; the
others stand by. When the leader stops or dies, its lock goes with its connection,
and the next standby to try becomes leader. A leader that loses its connection stops
its jobs at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from companion.jobs.definitions import JOBS
from companion.jobs.leader import AdvisoryLock
from companion.jobs.runner import JobRunner

if TYPE_CHECKING:
    from companion.jobs.services import JobServices

__all__ = ["Scheduler"]

log = logging.getLogger(__name__)


class Scheduler:
    """Leader election plus the job timetable; ``start``/``stop`` are idempotent."""

    def __init__(
        self,
        runtime: JobServices,
        *,
        lock: AdvisoryLock,
        runner: JobRunner,
        retry_seconds: float = 5.0,
    ) -> None:
        self.runtime, self.lock, self.runner = runtime, lock, runner
        self.retry_seconds = retry_seconds
        self._aps: AsyncIOScheduler | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        """Whether this process currently runs the jobs."""
        return self._aps is not None

    @property
    def running(self) -> bool:
        """Whether election is running (as leader or standby)."""
        return self._task is not None and not self._task.done()

    async def start_if_enabled(self) -> bool:
        """Start when SCHEDULER_ENABLED (``companion serve``); returns whether it started."""
        if not self.runtime.settings.behaviour.scheduler_enabled:
            log.info("scheduler disabled (SCHEDULER_ENABLED=false)")
            return False
        await self.start()
        return True

    async def start(self) -> None:
        """Begin leader election in the background."""
        if not self.running:
            self._task = asyncio.create_task(self._elect(), name="scheduler-election")

    async def _elect(self) -> None:
        while True:
            try:
                await self._tick()
            except Exception:  # election must survive any single failure
                log.exception("scheduler election step failed")
            await asyncio.sleep(self.retry_seconds)

    async def _tick(self) -> None:
        if self.is_leader:
            if not await self.lock.check():
                self._stop_jobs()
                log.warning("scheduler lost leadership")
            return
        if await self.lock.try_acquire():
            self._start_jobs()
            log.info("scheduler became leader", extra={"jobs": list(JOBS)})

    def _start_jobs(self) -> None:
        aps = AsyncIOScheduler(timezone=UTC)
        settings = self.runtime.settings.behaviour
        for spec in JOBS.values():
            aps.add_job(
                self._run,
                spec.trigger(settings),
                args=[spec.name],
                id=spec.name,
                name=spec.description,
                max_instances=1,
                coalesce=True,
                replace_existing=True,
                misfire_grace_time=600,
            )
        aps.start()
        self._aps = aps

    def _stop_jobs(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None

    async def _run(self, name: str) -> dict[str, Any]:
        return await self.runner.run(name)

    def next_runs(self) -> dict[str, str | None]:
        """When each job runs next (leader only; empty on a standby)."""
        if self._aps is None:
            return {}
        return {
            job.id: job.next_run_time.isoformat() if job.next_run_time else None
            for job in self._aps.get_jobs()
        }

    async def stop(self) -> None:
        """Stop jobs, stop electing, and release the lock."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._stop_jobs()
        await self.lock.release()
