"""/health (seed 004's shape) and /health/detailed, healthy and with the database gone."""

from __future__ import annotations

from httpx import ASGITransport, AsyncClient
from tests.conftest import make_settings

from companion.api.app import create_app
from companion.runtime import Runtime
from companion.store.database import Database


async def test_health_shape(client: AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert {"status", "version", "database", "llm"} <= set(body)
    assert body["database"] == "up"
    assert response.headers["x-request-id"]


async def test_health_detailed_reports_versions(client: AsyncClient) -> None:
    body = (await client.get("/health/detailed")).json()
    db = body["components"]["database"]
    assert db["version"].startswith("18")
    assert db["pgvector"].startswith("0.8")
    assert db["latency_ms"] >= 0
    assert body["components"]["redis"]["status"] == "not_configured"


async def test_health_503_when_database_is_gone(runtime) -> None:
    dead = make_settings("postgresql://nobody@127.0.0.1:1/none")
    broken = Runtime(settings=dead, db=Database.from_settings(dead), kv=runtime.kv)
    app = create_app(runtime=broken)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
        response = await http.get("/health")
    await broken.db.close()
    assert response.status_code == 503
    assert response.json()["database"] == "down"
    assert response.json()["status"] == "unhealthy"
