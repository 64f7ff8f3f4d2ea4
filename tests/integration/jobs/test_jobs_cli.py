"""``companion jobs run NAME`` as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from sqlalchemy import select

from companion.store.models import JobRun


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "companion.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


async def test_jobs_run_records_the_run(runtime: Any, database_url: str) -> None:
    url = database_url.replace("+asyncpg", "")
    result = _cli("jobs", "run", "conflict_scan", "--period", "2026-01-01", DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["status"] == "succeeded" and summary["period"] == "2026-01-01"
    async with runtime.db.session() as session:
        row = await session.scalar(select(JobRun).where(JobRun.job_name == "conflict_scan"))
    assert row is not None and row.status == "succeeded" and row.period_key == "2026-01-01"


def test_unknown_job_is_a_clear_error() -> None:
    result = _cli("jobs", "run", "nightly")
    assert result.returncode == 2
    assert "unknown job 'nightly'" in result.stderr and "reflection" in result.stderr
