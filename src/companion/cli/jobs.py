"""``companion jobs run NAME`` / ``companion jobs list`` and ``companion worker``."""

from __future__ import annotations

import asyncio
import json
import signal
from typing import Annotated, Any

import typer

from companion.cli._common import fail, load, run

__all__ = ["app", "worker"]

app = typer.Typer(help="Scheduled background jobs: list them or run one now.")


@app.command("list")
def list_jobs() -> None:
    """Show every job and what it does."""
    from companion.jobs import JOBS

    for spec in JOBS.values():
        kind = "per user" if spec.per_user else "whole"
        print(f"{spec.name:18} {kind:9} {spec.description}")


@app.command("run")
def run_job(
    name: Annotated[str, typer.Argument(help="Job name (see `companion jobs list`).")],
    period: Annotated[
        str | None, typer.Option(help="Period key to run for (default: the current one).")
    ] = None,
    pause: Annotated[float, typer.Option(help="Seconds between user batches.")] = 1.0,
) -> None:
    """Run one job now (idempotent: a period already done is skipped)."""
    from companion.jobs import JOBS, JobRunner
    from companion.runtime import Runtime

    if name not in JOBS:
        fail(f"unknown job {name!r}; known jobs: {', '.join(JOBS)}", code=2)
    settings = load(log_format="text")

    async def _go() -> dict[str, Any]:
        runtime = await Runtime.start(settings)
        try:
            return await JobRunner(runtime, pause=pause).run(name, period=period)
        finally:
            await runtime.close()

    summary = run(_go)
    print(json.dumps(summary, indent=2, default=str))
    if summary.get("status") == "failed":
        raise SystemExit(1)


def worker() -> None:
    """Run the scheduler and post-turn workers without the HTTP API (many may share one queue)."""
    from companion.runtime import Runtime

    settings = load()

    async def _go() -> None:
        runtime = await Runtime.start(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await runtime.scheduler.start()
            runtime.conversation.start_workers()
            print(
                "companion worker: scheduler and post-turn workers running (leader election on)",
                flush=True,
            )
            await stop.wait()
        finally:
            await runtime.close()

    run(_go)
