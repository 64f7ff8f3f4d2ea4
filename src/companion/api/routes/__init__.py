"""Every router of the HTTP API; each domain adds one line to ``ROUTERS``."""

from __future__ import annotations

from fastapi import APIRouter

from companion import web
from companion.api import metrics
from companion.api.routes import (
    admin,
    channels,
    chat,
    companions,
    deliveries,
    health,
    keys,
    memory,
    openai_compat,
    persona,
    personality,
    proactive,
    security,
    service_api,
    telegram,
    tools,
    users,
)

__all__ = ["ROUTERS"]

ROUTERS: list[APIRouter] = [
    health.router,
    chat.router,
    service_api.router,
    openai_compat.router,
    admin.router,
    metrics.router,
    personality.router,
    proactive.router,
    memory.router,
    security.router,
    web.router,
    channels.router,
    tools.router,
    users.router,
    telegram.router,
    keys.router,
    deliveries.router,
    persona.router,
    companions.router,
]
