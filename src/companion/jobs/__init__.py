"""Scheduled background jobs under one leader.

``build_scheduler(runtime)`` returns a ``Scheduler`` that does nothing until
``start()`` (``companion worker``) or ``start_if_enabled()`` (``companion serve``);
``JobRunner(runtime).run(name)`` runs one job now (``companion jobs run NAME``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion.jobs.definitions import JOBS, JobSpec
from companion.jobs.leader import LEADER_LOCK_KEY, AdvisoryLock
from companion.jobs.runner import JobRunner
from companion.jobs.scheduler import Scheduler

if TYPE_CHECKING:
    from companion.jobs.services import JobServices

__all__ = [
    "JOBS",
    "LEADER_LOCK_KEY",
    "AdvisoryLock",
    "JobRunner",
    "JobSpec",
    "Scheduler",
    "build_scheduler",
    "lock_dsn",
]


def lock_dsn(runtime: JobServices) -> str:
    """A plain ``postgresql://`` DSN for asyncpg, from the runtime's engine URL."""
    url = runtime.db.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def build_scheduler(runtime: JobServices) -> Scheduler:
    """The (not yet started) scheduler of this process."""
    return Scheduler(runtime, lock=AdvisoryLock(lock_dsn(runtime)), runner=JobRunner(runtime))
