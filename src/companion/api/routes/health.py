"""Health: ``/health`` (the service API's shape) and ``/health/detailed`` (each dependency)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from companion import __version__
from companion.api.deps import RuntimeDep
from companion.health import check_all

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(runtime: RuntimeDep) -> JSONResponse:
    """``{"status", "version", "database", "llm"}``; 503 when the database is down.

    ``database`` and ``llm`` are booleans (as the service API has them): ``llm`` is true
    only when some chat provider can answer now. ``redis`` is ``up``, ``down`` or
    ``not_configured``.
    """
    report = await check_all(runtime)
    body: dict[str, Any] = {
        "status": report.status,
        "version": __version__,
        "database": report.up("database"),
        "llm": report.up("llm"),
        "redis": report.components["redis"]["status"],
        "time": time.time(),
    }
    return JSONResponse(body, status_code=200 if report.status != "unhealthy" else 503)


@router.get("/health/detailed")
async def health_detailed(runtime: RuntimeDep) -> JSONResponse:
    """Every dependency with its status, version and latency in milliseconds."""
    report = await check_all(runtime)
    body = {"status": report.status, "version": __version__, "components": report.components}
    return JSONResponse(body, status_code=200 if report.status != "unhealthy" else 503)
