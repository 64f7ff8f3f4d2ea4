"""/health (the service API's shape) and /health/detailed, healthy and with the database gone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient
from tests.conftest import make_settings
from tests.fakes import FakeOpenAIServer, Reply

from companion.api.app import create_app
from companion.runtime import Runtime
from companion.store.database import Database


async def test_health_shape(client: AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert {"status", "version", "database", "llm"} <= set(body)
    # The service API's booleans: the test database is up and the built-in model can answer.
    assert body["database"] is True and body["llm"] is True
    assert body["status"] == "healthy"
    assert response.headers["x-request-id"]


async def test_every_response_carries_a_request_id_and_the_security_headers(
    client: AsyncClient,
) -> None:
    given = await client.get("/health", headers={"X-Request-Id": "trace-7f3a"})
    assert given.headers.get_list("x-request-id") == ["trace-7f3a"]
    made = await client.get("/health")
    request_id = made.headers["x-request-id"]
    assert len(request_id) == 16 and int(request_id, 16) >= 0
    assert request_id != (await client.get("/health")).headers["x-request-id"]
    assert made.headers["x-content-type-options"] == "nosniff"
    assert made.headers["x-frame-options"] == "DENY"
    assert made.headers["referrer-policy"] == "no-referrer"
    # An error answer carries them too; a page that sets its own policy keeps it.
    refused = await client.post("/api/chat/message", json={"message": "hi"})
    assert refused.status_code == 401 and refused.headers["x-frame-options"] == "DENY"
    page = await client.get("/admin/login")
    assert page.headers.get_list("referrer-policy") == ["same-origin"]
    assert page.headers["x-request-id"] and page.headers["x-content-type-options"] == "nosniff"


async def test_health_detailed_reports_versions(client: AsyncClient) -> None:
    body = (await client.get("/health/detailed")).json()
    db = body["components"]["database"]
    assert db["version"].startswith("18")
    assert db["pgvector"].startswith("0.8")
    assert db["status"] == "up" and db["embedded"] is False  # tests use DATABASE_URL
    assert body["components"]["redis"]["status"] == "not_configured"
    assert body["components"]["llm"]["status"] == "up"


async def test_health_503_when_database_is_gone(runtime) -> None:
    dead = make_settings("postgresql://nobody@127.0.0.1:1/none")
    broken = Runtime(settings=dead, db=Database.from_settings(dead), kv=runtime.kv)
    app = create_app(runtime=broken)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
        response = await http.get("/health")
    await broken.db.close()
    assert response.status_code == 503
    assert response.json()["database"] is False
    assert response.json()["status"] == "unhealthy"


@pytest.fixture
async def broken_local(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime whose only chat provider is a local model file that is not a GGUF."""
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a gguf file")
    settings = make_settings(
        database_url,
        COMPANION_LOCAL_MODEL=str(broken),
        CHAT_PROVIDERS="local",
        FAST_PROVIDERS="local",
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE="2",
    )
    live = await Runtime.start(settings, migrate=False)  # type: ignore[arg-type]
    yield live
    await live.close()


async def _health(runtime: Runtime, path: str = "/health") -> dict[str, object]:
    app = create_app(runtime=runtime)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
        response = await http.get(path)
    assert response.status_code == 200  # the database is up: alive, maybe degraded
    return dict(response.json())


async def test_llm_false_when_the_only_model_is_a_broken_file(broken_local: Runtime) -> None:
    body = await _health(broken_local)
    assert body["llm"] is False and body["database"] is True
    assert body["status"] == "degraded"
    detailed = await _health(broken_local, "/health/detailed")
    llm = detailed["components"]["llm"]  # type: ignore[index]
    assert llm["status"] == "down"
    (local,) = llm["chat"]["providers"]
    assert local["status"] == "down" and "not a GGUF" in local["problem"]


async def test_llm_false_when_every_circuit_is_open(
    database_url: str, tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a gguf file")
    settings = make_settings(
        database_url,
        COMPANION_LOCAL_MODEL=str(broken),
        CHAT_PROVIDERS="openai",
        FAST_PROVIDERS="local",
        OPENAI_BASE_URL=openai_server.base_url,
        OPENAI_API_KEY="test-key",
        LLM_BACKOFF_SECONDS="0",
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE="2",
    )
    live = await Runtime.start(settings, migrate=False)  # type: ignore[arg-type]
    try:
        assert (await _health(live))["llm"] is True
        chain = live.models.chat
        openai_server.enqueue(*[Reply(status=500) for _ in range(20)])
        from companion.errors import ProviderError
        from companion.llm.base import ChatMessage, ChatRequest

        for _ in range(10):  # bounded: the breaker opens after a few failed calls
            if chain.breakers["openai"].state == "open":
                break
            with pytest.raises(ProviderError):
                await chain.complete(ChatRequest([ChatMessage("user", "hi")]))
        assert chain.breakers["openai"].state == "open"
        body = await _health(live)
        assert body["llm"] is False and body["status"] == "degraded"
    finally:
        await live.close()
