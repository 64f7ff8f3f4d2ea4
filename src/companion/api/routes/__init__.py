"""Every router of the HTTP API; each domain adds one line to ``ROUTERS``."""

from __future__ import annotations

from fastapi import APIRouter

from companion.api.routes import health, personality

__all__ = ["ROUTERS"]

ROUTERS: list[APIRouter] = [
    health.router,
    personality.router,
]
