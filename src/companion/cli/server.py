"""``companion serve`` and ``companion migrate``.

``serve --workers N`` runs N server processes on one port (uvicorn's supervisor hands
each connection to one of them). They share nothing but PostgreSQL and Redis: the
post-turn queue is claimed row by row, the scheduler elects one leader, and API keys
are remembered per process for API_KEY_CACHE_SECONDS. The parent migrates the database
and holds the embedded server (if any) while the workers run; chat bots then run as
their own processes (``companion telegram`` / ``companion discord``), never N times.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from companion.cli._common import load, run

if TYPE_CHECKING:
    from fastapi import FastAPI

    from companion.runtime import Runtime
    from companion.settings import Settings
    from companion.store.database import Database

__all__ = ["migrate", "serve", "worker_app"]


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port.")] = None,
    no_bots: Annotated[
        bool,
        typer.Option("--no-bots", help="Run no chat bot here (they run as their own processes)."),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(min=1, max=64, help="Server processes sharing PostgreSQL and Redis."),
    ] = 1,
) -> None:
    """Start Companion (HTTP API, web pages, scheduler, configured bots)."""
    import uvicorn

    from companion.api.app import create_app

    settings = load()
    host = host or settings.core.gateway_host
    port = port or settings.core.gateway_port
    if workers > 1:
        _serve_workers(settings, host=host, port=port, workers=workers)
        return
    from companion.cli.welcome import welcome

    shown = "127.0.0.1" if host in {"0.0.0.0", "::"} else host
    base = f"http://{shown}:{port}"

    async def on_ready(runtime: Runtime) -> None:
        await welcome(runtime, base=base)

    app = create_app(settings, on_ready=on_ready, bots=not no_bots)
    print(
        f"Companion is starting on http://{shown}:{port} (health: /health, API docs: /docs)",
        flush=True,
    )
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


def worker_app() -> FastAPI:
    """The app of one ``serve --workers N`` process (uvicorn imports it by name)."""
    from companion.api.app import create_app

    return create_app(load(), bots=False)


def _serve_workers(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Migrate once, hold the database, and let uvicorn run ``workers`` processes."""
    import uvicorn

    from companion.store.database import Database
    from companion.store.migrate import upgrade

    async def _prepare() -> Database:
        db = Database.from_settings(settings, pool=False)
        await db.check()
        url = db.engine.url.render_as_string(hide_password=False)
        await upgrade(url, vector_dimensions=settings.llm.vector_dimensions)
        return db

    db = run(_prepare)  # holds the embedded server between worker restarts
    print(
        f"Companion is starting {workers} server processes on http://{host}:{port} "
        "(chat bots run as their own processes: companion telegram / companion discord)",
        flush=True,
    )
    try:
        uvicorn.run(
            "companion.cli.server:worker_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            access_log=False,
            # A worker loads its models before it answers the supervisor's health
            # pings; the default 5 s kills it (and every restart) on a busy machine.
            timeout_worker_healthcheck=120,
        )
    finally:
        asyncio.run(db.close())


def migrate() -> None:
    """Apply database migrations (starting the embedded database if needed)."""
    from companion.runtime import Runtime

    settings = load(log_format="text")

    async def _go() -> str:
        runtime = await Runtime.start(settings, migrate=True)
        url = runtime.db.url
        await runtime.close()
        return url

    url = run(_go)
    print(f"database migrated: {url}")
