"""The scheduled jobs: what each runs, when, and its period key.

Whole-system jobs (``run``) execute once per period. Per-user jobs (``users`` +
``step``) run over users in batches and mark each user done for the period.
Domain work is called through the domains' job modules (``memory.jobs``,
``personality.evolution``) and the proactive service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, text

from companion.settings import BehaviourSettings

if TYPE_CHECKING:
    from companion.jobs.services import JobServices

__all__ = ["JOBS", "JobSpec"]

Counts = dict[str, Any]


@dataclass(frozen=True)
class JobSpec:
    """One job: its trigger, its period key, and either ``run`` or ``users``+``step``."""

    name: str
    description: str
    trigger: Callable[[BehaviourSettings], BaseTrigger]
    period: Callable[[datetime, BehaviourSettings], str]
    run: Callable[[JobServices, datetime], Awaitable[Counts]] | None = None
    users: Callable[[JobServices, datetime], Awaitable[list[str]]] | None = None
    step: Callable[[JobServices, str, datetime, str], Awaitable[Counts]] | None = None

    @property
    def per_user(self) -> bool:
        """Whether the job runs user by user (batched, marked, resumable)."""
        return self.step is not None


def _day(now: datetime, _: BehaviourSettings) -> str:
    return f"{now:%Y-%m-%d}"


def _hour(now: datetime, _: BehaviourSettings) -> str:
    return f"{now:%Y-%m-%dT%H}"


def _slot(now: datetime, settings: BehaviourSettings) -> str:
    minutes = settings.proactive_check_minutes
    start = now.replace(second=0, microsecond=0)
    start -= timedelta(minutes=(start.hour * 60 + start.minute) % minutes)
    return f"{start:%Y-%m-%dT%H:%M}"


async def _user_ids(runtime: JobServices, sql: str, now: datetime) -> list[str]:
    async with runtime.db.session() as session:
        return [str(r[0]) for r in await session.execute(text(sql), {"now": now})]


# --- proactive -------------------------------------------------------------------------


async def _proactive(runtime: JobServices, now: datetime) -> Counts:
    if runtime.proactive is None:
        return {"skipped": "proactive service not wired"}
    counts: Counts = await runtime.proactive.run_check(now=now)
    return counts


async def _patterns(runtime: JobServices, now: datetime) -> Counts:
    from companion.proactive.patterns import refresh_patterns

    async with runtime.db.engine.begin() as conn:
        return {"users": await refresh_patterns(conn, now=now)}


def _quarter(now: datetime, _: BehaviourSettings) -> str:
    start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    return f"{start:%Y-%m-%dT%H:%M}"


# --- personality -------------------------------------------------------------------------


async def _companion_users(runtime: JobServices, now: datetime) -> list[str]:
    return await _user_ids(
        runtime,
        "SELECT c.user_id FROM companions c JOIN users u ON u.id = c.user_id "
        "WHERE c.is_active AND u.status IN ('active', 'suspended') ORDER BY c.user_id",
        now,
    )


async def _needs_step(runtime: JobServices, user_id: str, now: datetime, period: str) -> Counts:
    from companion.personality.evolution import update_needs_user

    became = await update_needs_user(runtime.personality, user_id=user_id, now=now, period=period)  # type: ignore[arg-type]
    return {"became_urgent": became}


# --- reflection (nightly, per active user) ----------------------------------------------


async def _active_users(runtime: JobServices, now: datetime) -> list[str]:
    # Users active in the last 7 days (with a companion to reflect on); activity
    # is a turn in that window, since users.last_active is only set on first contact.
    return await _user_ids(
        runtime,
        "SELECT u.id FROM users u JOIN companions c ON c.user_id = u.id AND c.is_active "
        "WHERE u.status = 'active' AND (u.last_active >= CAST(:now AS timestamptz) - "
        "interval '7 days' OR EXISTS (SELECT 1 FROM interactions i WHERE i.user_id = u.id "
        "AND i.timestamp >= CAST(:now AS timestamptz) - interval '7 days')) ORDER BY u.id",
        now,
    )


async def _reflect_step(runtime: JobServices, user_id: str, now: datetime, period: str) -> Counts:
    from companion.memory.jobs import consolidate
    from companion.personality.evolution import drift_user, evolve_quirks_user, reflect_style_user

    fast = getattr(runtime.models, "fast", None) if runtime.models is not None else None
    service: Any = runtime.personality
    made = await consolidate(runtime.db, fast=fast, user_id=user_id)
    drift = await drift_user(service, user_id=user_id, now=now, period=period)
    quirks = await evolve_quirks_user(service, user_id=user_id, now=now, period=period)
    style = await reflect_style_user(service, user_id=user_id, now=now, period=period)
    counts: Counts = {
        "semantic_created": made.get("semantic_created", 0),
        f"drift_{drift}": 1,
        f"style_{style}": 1,
    }
    counts.update({f"quirks_{k}": v for k, v in quirks.items()})
    return counts


# --- memory ------------------------------------------------------------------------------


async def _conflicts(runtime: JobServices, now: datetime) -> Counts:
    from companion.memory.jobs import conflict_scan

    return await conflict_scan(runtime.db)


async def _decay(runtime: JobServices, now: datetime) -> Counts:
    from companion.memory.jobs import recency_decay

    return await recency_decay(runtime.db, now=now)


async def _own_indexes(runtime: JobServices, now: datetime) -> Counts:
    from companion.memory.user_index import ensure_user_indexes

    return await ensure_user_indexes(runtime.db.engine)


async def _retention(runtime: JobServices, now: datetime) -> Counts:
    from companion.jobs.runs import prune_marks
    from companion.memory.jobs import retention_cleanup
    from companion.proactive.models import ProactiveDecision
    from companion.store.models import JobRun, OutboundDelivery
    from companion.store.retention import delete_expired

    counts: Counts = dict(await retention_cleanup(runtime.db, now=now))
    counts.update(await delete_expired(runtime.db, now=now))
    async with runtime.db.transaction() as session:
        # Evaluations that sent nothing are only useful for a while (one row per user
        # every few minutes); sent messages stay for the response-rate history until
        # the user's retention period (``delete_expired`` above).
        result = await session.execute(
            delete(ProactiveDecision).where(
                ProactiveDecision.sent_at.is_(None),
                ProactiveDecision.evaluated_at < now - timedelta(days=14),
            )
        )
        counts["proactive_decisions_pruned"] = int(result.rowcount)  # type: ignore[attr-defined]
        result = await session.execute(
            delete(JobRun).where(JobRun.started_at < now - timedelta(days=90))
        )
        counts["job_runs_pruned"] = int(result.rowcount)  # type: ignore[attr-defined]
        result = await session.execute(  # sent, failed or expired deliveries, after a month
            delete(OutboundDelivery).where(OutboundDelivery.finished_at < now - timedelta(days=30))
        )
        counts["outbound_deliveries_pruned"] = int(result.rowcount)  # type: ignore[attr-defined]
    counts["job_marks_pruned"] = await prune_marks(runtime.db, now=now)
    return counts


async def _backup(runtime: JobServices, now: datetime) -> Counts:
    from companion.store.backup import nightly_backup

    return await nightly_backup(runtime.settings, now=now)


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(
            "proactive_check",
            "score every active user and reach out where allowed",
            lambda s: IntervalTrigger(minutes=s.proactive_check_minutes),
            _slot,
            run=_proactive,
        ),
        JobSpec(
            "activity_patterns",
            "refresh the cached activity patterns the proactive score reads",
            lambda s: IntervalTrigger(minutes=15),
            _quarter,
            run=_patterns,
        ),
        JobSpec(
            "needs",
            "grow the companion's needs",
            lambda s: IntervalTrigger(hours=1),
            _hour,
            users=_companion_users,
            step=_needs_step,
        ),
        JobSpec(
            "conflict_scan",
            "close contradicting facts",
            lambda s: CronTrigger(hour=2, minute=0),
            _day,
            run=_conflicts,
        ),
        JobSpec(
            "reflection",
            "consolidation, baseline drift, quirks, style traits",
            lambda s: CronTrigger(hour=3, minute=0),
            _day,
            users=_active_users,
            step=_reflect_step,
        ),
        JobSpec(
            "recency_decay",
            "recompute memory recency",
            lambda s: CronTrigger(hour=4, minute=0),
            _day,
            run=_decay,
        ),
        JobSpec(
            "user_indexes",
            "give users with very many memories search indexes of their own (or take them away)",
            lambda s: CronTrigger(hour=5, minute=0),
            _day,
            run=_own_indexes,
        ),
        JobSpec(
            "backup",
            "dump the whole database to BACKUP_DIR and prune old dumps (when BACKUP_DIR is set)",
            lambda s: CronTrigger(hour=3, minute=45),
            _day,
            run=_backup,
        ),
        JobSpec(
            "retention_cleanup",
            "delete data past retention, prune bookkeeping",
            lambda s: CronTrigger(hour=4, minute=30),
            _day,
            run=_retention,
        ),
    )
}
