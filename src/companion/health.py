"""Checks of every dependency, shared by ``/health``, ``/health/detailed`` and ``doctor``."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from companion.errors import CompanionError

if TYPE_CHECKING:
    from companion.runtime import Runtime

__all__ = ["HealthReport", "check_all"]

Component = dict[str, Any]


@dataclass
class HealthReport:
    """``status`` is healthy, degraded (optional parts down) or unhealthy (database down)."""

    status: str
    components: dict[str, Component]

    def up(self, name: str) -> bool:
        """Whether component ``name`` is up (the booleans of ``/health``)."""
        return bool(self.components.get(name, {}).get("status") == "up")


async def _database(runtime: Runtime) -> Component:
    try:
        info = await asyncio.wait_for(runtime.db.check(), timeout=5)
    except (CompanionError, TimeoutError) as exc:
        return {"status": "down", "error": str(exc) or "timed out", "required": True}
    return {
        "status": "up",
        "version": info.server_version,
        "pgvector": info.pgvector_version,
        "embedded": info.embedded,
        "latency_ms": round(info.latency_ms, 2),
        "required": True,
    }


async def _redis(runtime: Runtime) -> Component:
    if runtime.kv.name != "redis":
        return {"status": "not_configured", "fallback": "in-process", "required": False}
    try:
        started = time.perf_counter()
        version = await asyncio.wait_for(runtime.kv.server_version(), timeout=2)  # type: ignore[union-attr]
        latency = (time.perf_counter() - started) * 1000
    except Exception as exc:
        return {"status": "down", "error": str(exc), "fallback": "in-process", "required": False}
    return {"status": "up", "version": version, "latency_ms": round(latency, 2), "required": False}


async def _llm(runtime: Runtime) -> Component:
    """Up only when some chat provider can answer now (not broken, circuit not open)."""
    models = runtime.models
    if models is None:
        return {"status": "not_configured", "required": False}
    chat = getattr(models, "chat", None)
    available = getattr(chat, "available", None)
    describe = getattr(models, "describe", None)
    details = describe() if callable(describe) else {}
    if available is None:  # a model object that cannot tell: say so, do not guess "up"
        return {"status": "unknown", "required": False, **details}
    status = "up" if available else "down"
    if not available:
        details["error"] = "no chat provider can answer (each is broken or its circuit is open)"
    return {"status": status, "required": False, **details}


async def check_all(runtime: Runtime) -> HealthReport:
    """Check every dependency concurrently."""
    database, redis, llm = await asyncio.gather(_database(runtime), _redis(runtime), _llm(runtime))
    components = {"database": database, "redis": redis, "llm": llm}
    if database["status"] != "up":
        status = "unhealthy"
    elif any(c["status"] == "down" for c in components.values()):
        status = "degraded"
    else:
        status = "healthy"
    return HealthReport(status=status, components=components)
