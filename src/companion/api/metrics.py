"""HTTP metrics and ``GET /metrics`` (Prometheus text format).

Request latency is labelled by route *template* (``/api/chat/session/{user_id}``),
never by concrete path, so user ids do not become label values.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["install_metrics", "router"]

REQUEST_LATENCY = Histogram(
    "companion_http_request_duration_seconds",
    "HTTP request latency (until the response starts)",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
REQUESTS = Counter("companion_http_requests_total", "HTTP requests", ["method", "route", "status"])

router = APIRouter(tags=["observability"])


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Every Companion metric in Prometheus's text format."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


#: The metrics' children by label values: ``labels()`` takes a lock and checks its
#: arguments on every call; the set of values is the metrics' own (no larger).
_CHILDREN: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def _children(method: str, route: str, status: str) -> tuple[Any, Any]:
    labels = (method, route, status)
    found = _CHILDREN.get(labels)
    if found is None:
        found = _CHILDREN[labels] = (REQUEST_LATENCY.labels(*labels), REQUESTS.labels(*labels))
    return found


def _route(scope: Scope) -> str:
    path = getattr(scope.get("route"), "path", None)
    return str(path) if path else "unmatched"


class _Observe:
    """Pure ASGI (no extra task per request, unlike ``@app.middleware``): the latency
    until the response starts, labelled once the router has chosen the route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                latency, count = _children(scope["method"], _route(scope), str(message["status"]))
                latency.observe(time.perf_counter() - started)
                count.inc()
            await send(message)

        await self.app(scope, receive, observed)


def install_metrics(app: FastAPI) -> None:
    """Time every request by method, route template and status."""
    app.add_middleware(_Observe)
