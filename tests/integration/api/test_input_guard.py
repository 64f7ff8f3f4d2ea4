"""Bad input is a 422 for the right reason, before anything is written; a real
database fault is a 5xx and logged, never a 422 guessed from the error's text."""

from __future__ import annotations

import logging

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select, text
from tests.integration.api.conftest import Gateway

from companion.store.models import Message


async def _messages(gateway: Gateway) -> int:
    async with gateway.runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


async def test_nul_in_a_json_string_is_refused_before_routing(gateway: Gateway) -> None:
    headers = await gateway.key("nina")
    response = await gateway.client.post(
        "/api/chat/message", json={"message": "hi\u0000there"}, headers=headers
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "InvalidInput" and body["problems"][0]["field"] == "message"
    assert "NUL" in body["detail"]
    assert await _messages(gateway) == 0


async def test_nul_in_a_nested_field_or_key_names_its_path(gateway: Gateway) -> None:
    headers = await gateway.key("nina")
    response = await gateway.client.post(
        "/v1/chat/completions",
        json={"model": "companion", "messages": [{"role": "user", "content": "a\u0000"}]},
        headers=headers,
    )
    assert response.status_code == 422
    error = response.json()["error"]  # OpenAI's error shape under /v1
    assert error["param"] == "messages[0].content" and "NUL" in error["message"]


async def test_out_of_range_integers_are_refused(gateway: Gateway) -> None:
    headers = await gateway.key("nina")
    too_big = 2**63
    query = await gateway.client.get(f"/api/memory?limit=5&offset={too_big}", headers=headers)
    assert query.status_code == 422 and "offset" in query.json()["detail"]
    body = await gateway.client.post(
        "/api/memory/search", json={"query": "x", "k": -too_big}, headers=headers
    )
    assert body.status_code == 422 and "k" in body.json()["detail"]


async def test_nul_in_the_query_string_or_path_is_refused(gateway: Gateway) -> None:
    headers = await gateway.key("nina")
    query = await gateway.client.get("/api/memory?memory_type=a%00b", headers=headers)
    assert query.status_code == 422 and "memory_type" in query.json()["detail"]
    path = await gateway.client.get("/api/channels/nina%00/discord", headers=headers)
    assert path.status_code == 422


async def test_a_real_database_fault_is_a_logged_500_not_a_422(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    headers = await gateway.key("nina")
    async with gateway.runtime.db.engine.begin() as conn:
        await conn.execute(
            text(
                "ALTER TABLE messages ADD CONSTRAINT ck_test_fault "
                "CHECK (content NOT LIKE '%unstorable%') NOT VALID"
            )
        )
    # As a server sees it: the app answers, and the error is not re-raised into the client.
    transport = ASGITransport(app=gateway.app, raise_app_exceptions=False)
    try:
        with caplog.at_level(logging.ERROR):
            async with AsyncClient(transport=transport, base_url="http://test") as http:
                response = await http.post(
                    "/api/chat/message", json={"message": "this is unstorable"}, headers=headers
                )
    finally:
        async with gateway.runtime.db.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE messages DROP CONSTRAINT ck_test_fault"))
    assert response.status_code == 500, response.text
    assert response.json()["error"] == "InternalError"
    assert "Traceback" not in response.text and "ck_test_fault" not in response.text
    assert any(r.levelno >= logging.ERROR for r in caplog.records)


async def test_a_body_that_is_not_json_is_a_422_not_a_logged_crash(gateway: Gateway) -> None:
    # The documents route reads its body itself. The error used to reach the catch-all
    # handler: the client got a 422, but the server re-raised it as a crash (and an
    # in-process client saw the exception instead of the answer).
    headers = {**await gateway.key("nina"), "Content-Type": "application/json"}
    response = await gateway.client.post(
        "/api/memory/documents", content=b"{not json", headers=headers
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("request body is not valid JSON")
