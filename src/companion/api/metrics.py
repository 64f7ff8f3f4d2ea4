"""HTTP metrics and ``GET /metrics`` (Prometheus text format).

Request latency is labelled by route *template* (``/api/chat/session/{user_id}``),
never by concrete path, so user ids do not become label values.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

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


def _route(request: Request) -> str:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


def install_metrics(app: FastAPI) -> None:
    """Time every request by method, route template and status."""

    @app.middleware("http")
    async def _observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        labels = (request.method, _route(request), str(response.status_code))
        REQUEST_LATENCY.labels(*labels).observe(time.perf_counter() - started)
        REQUESTS.labels(*labels).inc()
        return response
