"""Runs one job for one period, recording it in ``job_runs`` (start, end, users,
counts, errors). Per-user jobs go in batches of MAX_REFLECTION_BATCH_SIZE, users of a
batch concurrently (at most ``CONCURRENCY``), with a pause between batches; each user
is marked when done, so a second run for the period does nothing and a crashed run
resumes with the users it had not finished.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from companion.errors import InvalidInput
from companion.jobs import runs
from companion.jobs.definitions import JOBS, JobSpec

if TYPE_CHECKING:
    from companion.jobs.services import JobServices

__all__ = ["CONCURRENCY", "JobRunner"]

log = logging.getLogger(__name__)

CONCURRENCY = 10


class JobRunner:
    """Executes jobs by name for a runtime."""

    def __init__(
        self, runtime: JobServices, *, batch_size: int | None = None, pause: float = 1.0
    ) -> None:
        self.runtime = runtime
        self.batch_size = batch_size or runtime.settings.behaviour.max_reflection_batch_size
        self.pause = pause

    @staticmethod
    def spec(name: str) -> JobSpec:
        """The job called ``name``, or ``InvalidInput`` listing the known ones."""
        if name not in JOBS:
            raise InvalidInput(f"unknown job {name!r}; known jobs: {', '.join(JOBS)}")
        return JOBS[name]

    async def run(
        self, name: str, *, now: datetime | None = None, period: str | None = None
    ) -> dict[str, Any]:
        """Run ``name`` for its current period (or ``period``); returns its summary."""
        spec = self.spec(name)
        now = now or datetime.now(UTC)
        period = period or spec.period(now, self.runtime.settings.behaviour)
        if spec.per_user:
            return await self._per_user(spec, now, period)
        return await self._whole(spec, now, period)

    async def _whole(self, spec: JobSpec, now: datetime, period: str) -> dict[str, Any]:
        db = self.runtime.db
        if await runs.already_done(db, job=spec.name, period=period):
            return {"job": spec.name, "period": period, "status": "skipped"}
        run_id = await runs.start_run(db, job=spec.name, period=period)
        assert spec.run is not None
        try:
            counts = await spec.run(self.runtime, now)
        except Exception as exc:
            log.exception("job failed", extra={"job": spec.name})
            error = {"error": type(exc).__name__, "detail": str(exc)[:500]}
            await runs.finish_run(db, run_id, status="failed", users=0, counts={}, errors=[error])
            return {"job": spec.name, "period": period, "status": "failed", "errors": [error]}
        users = int(counts.get("evaluated", counts.get("users", 0)) or 0)
        await runs.finish_run(db, run_id, status="succeeded", users=users, counts=counts, errors=[])
        log.info("job finished", extra={"job": spec.name, "period": period, **counts})
        return {"job": spec.name, "period": period, "status": "succeeded", "counts": counts}

    async def _per_user(self, spec: JobSpec, now: datetime, period: str) -> dict[str, Any]:
        db = self.runtime.db
        assert spec.users is not None
        candidates = await spec.users(self.runtime, now)
        pending = await runs.pending_users(db, job=spec.name, period=period, candidates=candidates)
        if candidates and not pending:
            return {"job": spec.name, "period": period, "status": "skipped"}
        run_id = await runs.start_run(db, job=spec.name, period=period)
        counts: Counter[str] = Counter()
        errors: list[dict[str, str]] = []
        done = 0
        for start in range(0, len(pending), self.batch_size):
            batch = pending[start : start + self.batch_size]
            ok = await self._batch(spec, batch, now, period, counts, errors)
            await runs.mark_users(db, job=spec.name, period=period, user_ids=ok)
            done += len(ok)
            if start + self.batch_size < len(pending) and self.pause > 0:
                await asyncio.sleep(self.pause)
        status = "succeeded" if not errors else "partial"
        summary = {**counts, "errors": len(errors)}
        await runs.finish_run(db, run_id, status=status, users=done, counts=summary, errors=errors)
        log.info("job finished", extra={"job": spec.name, "period": period, "users": done})
        return {"job": spec.name, "period": period, "status": status, "users": done,
                "counts": summary}  # fmt: skip

    async def _batch(
        self,
        spec: JobSpec,
        batch: list[str],
        now: datetime,
        period: str,
        counts: Counter[str],
        errors: list[dict[str, str]],
    ) -> list[str]:
        assert spec.step is not None
        step = spec.step
        semaphore = asyncio.Semaphore(CONCURRENCY)

        async def one(user_id: str) -> Any:
            async with semaphore:
                return await step(self.runtime, user_id, now, period)

        results = await asyncio.gather(*(one(u) for u in batch), return_exceptions=True)
        ok: list[str] = []
        for user_id, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                log.error(
                    "job step failed for one user",
                    exc_info=result,
                    extra={"job": spec.name, "period": period, "user_id": user_id},
                )
                errors.append({"user_id": user_id, "error": type(result).__name__,
                               "detail": str(result)[:300]})  # fmt: skip
                continue
            ok.append(user_id)
            counts.update({k: int(v) for k, v in result.items() if isinstance(v, (int, float))})
        return ok
