"""``companion serve`` and ``companion migrate``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from companion.cli._common import load, run

if TYPE_CHECKING:
    from companion.runtime import Runtime

__all__ = ["migrate", "serve"]


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port.")] = None,
    no_bots: Annotated[
        bool,
        typer.Option("--no-bots", help="Run no chat bot here (they run as their own processes)."),
    ] = False,
) -> None:
    """Start Companion (HTTP API, web pages, scheduler, configured bots)."""
    import uvicorn

    from companion.api.app import create_app

    settings = load()
    host = host or settings.core.gateway_host
    port = port or settings.core.gateway_port
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
