"""The job timetable and period keys."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from companion.jobs import JOBS
from companion.settings import BehaviourSettings

SETTINGS = BehaviourSettings(proactive_check_minutes=5)
AT = datetime(2026, 11, 21, 3, 7, 42, tzinfo=UTC)


def test_every_seed_job_is_scheduled() -> None:
    assert set(JOBS) == {
        "proactive_check", "activity_patterns", "needs", "conflict_scan", "reflection",
        "recency_decay", "retention_cleanup", "backup", "user_indexes",
    }  # fmt: skip
    check = JOBS["proactive_check"].trigger(SETTINGS)
    assert isinstance(check, IntervalTrigger) and check.interval.total_seconds() == 300
    assert JOBS["needs"].trigger(SETTINGS).interval.total_seconds() == 3600  # type: ignore[attr-defined]
    hours = {name: JOBS[name].trigger(SETTINGS) for name in ("conflict_scan", "reflection")}
    assert all(isinstance(t, CronTrigger) for t in hours.values())
    assert str(hours["conflict_scan"]).startswith("cron[hour='2'")
    assert str(hours["reflection"]).startswith("cron[hour='3'")
    assert str(JOBS["recency_decay"].trigger(SETTINGS)).startswith("cron[hour='4'")


def test_period_keys() -> None:
    assert JOBS["proactive_check"].period(AT, SETTINGS) == "2026-11-21T03:05"
    assert JOBS["needs"].period(AT, SETTINGS) == "2026-11-21T03"
    assert JOBS["activity_patterns"].period(AT, SETTINGS) == "2026-11-21T03:00"
    assert JOBS["reflection"].period(AT, SETTINGS) == "2026-11-21"
    assert JOBS["reflection"].per_user and not JOBS["conflict_scan"].per_user
