"""The FastAPI application: lifespan builds the runtime; routers stay thin."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from companion import __version__
from companion.api.errors import install_error_handlers
from companion.api.input_guard import InputGuard
from companion.api.metrics import install_metrics
from companion.api.routes import ROUTERS
from companion.channels.bots import start_bots, stop_bots
from companion.logs import request_id
from companion.ops.collector import freeze_startup_heap
from companion.ops.loop_watch import process_watch
from companion.runtime import Runtime
from companion.settings import Settings
from companion.store.prewarm import prewarm_vector_index

__all__ = ["create_app"]

log = logging.getLogger(__name__)


_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    on_ready: Callable[[Runtime], Awaitable[None]] | None = None,
    bots: bool = True,
) -> FastAPI:
    """Build the app; with ``runtime`` given (tests), the lifespan does not own it.

    ``on_ready`` runs once the runtime is up (``companion serve`` prints where to chat).
    ``bots=False`` (``serve --no-bots``) leaves the chat bots to their own processes.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = runtime is None
        app.state.runtime = runtime or await Runtime.start(settings)
        if own and app.state.runtime.scheduler is not None:  # serve: SCHEDULER_ENABLED
            await app.state.runtime.scheduler.start_if_enabled()
        if own:  # serve: each turn says how late the loop was (ops.loop_watch)
            process_watch().start()
        conversation = app.state.runtime.conversation
        if (
            own
            and conversation is not None
            and app.state.runtime.settings.behaviour.queue_workers_in_serve
        ):
            # serve: post-turn workers, unless `companion worker` processes run them
            conversation.start_workers()
        # Bots with a configured token run in this process (DECISIONS.md#one-process); not in tests.
        handles = await start_bots(app.state.runtime) if own and bots else []
        # The embedded server reads the vector index into its buffers while we serve.
        warm = (
            asyncio.create_task(_prewarm(app.state.runtime))
            if own and app.state.runtime.db.embedded is not None
            else None
        )
        if on_ready is not None:
            await on_ready(app.state.runtime)
        if own:  # serve: what startup built lives as long as the process (ops.collector)
            frozen = freeze_startup_heap()
            log.info("startup heap frozen", extra={"objects": frozen})
        try:
            yield
        finally:
            if warm is not None:
                warm.cancel()
            await stop_bots(handles)
            if own:
                await process_watch().stop()
                await app.state.runtime.close()

    app = FastAPI(
        title="Companion",
        version=__version__,
        description="A self-hosted AI companion: memory, personality, proactive messages.",
        lifespan=lifespan,
    )
    if runtime is not None:
        app.state.runtime = runtime
    _install_cors(app, settings or (runtime.settings if runtime is not None else None))
    install_error_handlers(app)
    app.add_middleware(InputGuard)  # before metrics: its 422s are counted too
    install_metrics(app)

    app.add_middleware(_RequestContext)

    for router in ROUTERS:
        app.include_router(router)
    return app


async def _prewarm(runtime: Runtime) -> None:
    try:
        await prewarm_vector_index(runtime.db.engine)
    except Exception as exc:  # an optimisation only: searches work without it
        log.warning("vector index prewarm failed: %s", exc)


class _RequestContext:
    """The request id (for logs and the ``X-Request-Id`` header) and the security headers.

    Pure ASGI rather than ``@app.middleware("http")``, which runs every request in an
    extra task with memory streams: measurable CPU per turn on the gateway. The headers
    are read and written as the raw byte pairs ASGI carries (no ``Headers`` objects).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _given_request_id(scope) or secrets.token_hex(8)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _response_headers(message.get("headers", ()), rid)
            await send(message)

        token = request_id.set(rid)
        try:
            await self.app(scope, receive, with_headers)
        finally:
            request_id.reset(token)


_REQUEST_ID = b"x-request-id"
_SECURITY_RAW = tuple(
    (name.lower().encode("latin-1"), value.encode("latin-1"))
    for name, value in _SECURITY_HEADERS.items()
)


def _given_request_id(scope: Scope) -> str:
    """The client's ``X-Request-Id`` ("" if none); ASGI servers send lower-case names."""
    for name, value in scope["headers"]:
        if name == _REQUEST_ID:
            return str(value.decode("latin-1"))
    return ""


def _response_headers(raw: Any, rid: str) -> list[tuple[bytes, bytes]]:
    """The response's headers with ours: the request id (replacing any the app set)
    and each security header the app did not set itself."""
    headers = [(name, value) for name, value in raw if name.lower() != _REQUEST_ID]
    present = {name.lower() for name, _ in headers}
    headers.append((_REQUEST_ID, rid.encode("latin-1")))
    headers.extend(pair for pair in _SECURITY_RAW if pair[0] not in present)
    return headers


def _install_cors(app: FastAPI, settings: Settings | None) -> None:
    """CORS for the origins in CORS_ORIGINS only (none by default)."""
    origins = settings.security.cors_origin_list if settings is not None else []
    if not origins:
        return
    from fastapi.middleware.cors import CORSMiddleware

    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_credentials="*" not in origins,  # browsers refuse credentials with "*"
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-Id"],
        expose_headers=["X-Request-Id"],
    )
