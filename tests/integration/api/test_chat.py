"""/api/chat over HTTP: JSON, SSE, session, reset; bad input; auth; limits."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from sqlalchemy import func, select
from tests.integration.api.conftest import Gateway

from companion.store.models import Interaction, Message


async def _messages(gateway: Gateway) -> int:
    async with gateway.runtime.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


async def test_message_json_round_trip(gateway: Gateway) -> None:
    headers = await gateway.key("alice")
    response = await gateway.client.post(
        "/api/chat/message", json={"message": "Hello, I'm Alice!"}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["response"] == body["agent_response"] == gateway.chat.default
    assert body["interaction_id"] > 0 and body["emotion_label"]
    assert set(body["pad_state_after"]) == {"pleasure", "arousal", "dominance"}
    assert "overhead;dur=" in response.headers["server-timing"]
    assert response.headers["x-request-id"] and response.headers["x-frame-options"] == "DENY"

    again = await gateway.client.post(
        "/api/chat/message",
        json={"message": "Still me.", "conversation_id": body["conversation_id"]},
        headers=headers,
    )
    assert again.json()["conversation_id"] == body["conversation_id"]
    session = await gateway.client.get("/api/chat/session/alice", headers=headers)
    assert session.status_code == 200
    assert session.json()["conversation_id"] == body["conversation_id"]
    assert session.json()["message_count"] == 4


async def test_an_admin_key_is_told_each_step_of_the_turn(gateway: Gateway) -> None:
    """``Server-Timing`` names the turn's steps to an admin (the gateway bench reads
    them), not to an ordinary user."""
    admin = await gateway.client.post(
        "/api/chat/message", json={"message": "Hi!"}, headers=await gateway.key("root", admin=True)
    )
    user = await gateway.client.post(
        "/api/chat/message", json={"message": "Hi!"}, headers=await gateway.key("carol")
    )
    assert admin.status_code == user.status_code == 200
    steps = {p.split(";")[0].strip() for p in admin.headers["server-timing"].split(",")}
    assert {"overhead", "read", "retrieval", "total", "reply", "lag", "gc", "lock"} <= steps
    told = {p.split(";")[0].strip() for p in user.headers["server-timing"].split(",")}
    assert told == {"turn", "model", "overhead"}


async def test_stream_sse(gateway: Gateway) -> None:
    headers = await gateway.key("bob")
    chunks, final = [], None
    async with gateway.client.stream(
        "POST", "/api/chat/stream", json={"message": "Tell me a story"}, headers=headers
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                data = json.loads(line[6:])
                if data.get("done"):
                    final = data
                else:
                    chunks.append(data["chunk"])
    assert final is not None and "".join(chunks) == final["response"] == gateway.chat.default
    assert final["interaction_id"] > 0


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"message": ""}, "message"),
        ({"message": "   "}, "message"),
        ({"message": "x" * 4001}, "4001 characters"),
        ({"message": 42}, "message"),
        ({}, "message"),
        ({"message": "hi", "conversation_id": "not-a-uuid"}, "conversation_id"),
    ],
)
async def test_bad_input_names_the_problem(
    gateway: Gateway, payload: dict[str, object], needle: str
) -> None:
    headers = await gateway.key("carol")
    response = await gateway.client.post("/api/chat/message", json=payload, headers=headers)
    assert response.status_code == 422
    assert needle in response.json()["detail"]
    assert await _messages(gateway) == 0


async def test_malformed_json(gateway: Gateway) -> None:
    headers = await gateway.key("carol") | {"Content-Type": "application/json"}
    response = await gateway.client.post("/api/chat/message", content=b"{nope", headers=headers)
    assert response.status_code == 422 and "JSON" in response.json()["detail"]
    assert await _messages(gateway) == 0


async def test_unknown_and_foreign_conversations_are_404(gateway: Gateway) -> None:
    bob = await gateway.key("bob")
    theirs = await gateway.client.post("/api/chat/message", json={"message": "hi"}, headers=bob)
    alice = await gateway.key("alice")
    for conversation_id in (theirs.json()["conversation_id"], str(uuid.uuid4())):
        response = await gateway.client.post(
            "/api/chat/message",
            json={"message": "hi", "conversation_id": conversation_id},
            headers=alice,
        )
        assert response.status_code == 404 and "not found" in response.json()["detail"]
    assert await _messages(gateway) == 2


async def test_providers_down_is_503_with_recorded_apology(gateway: Gateway) -> None:
    gateway.chat.fail = True
    headers = await gateway.key("dan")
    response = await gateway.client.post(
        "/api/chat/message", json={"message": "anyone there?"}, headers=headers
    )
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "TurnFailed" and "try again" in body["detail"]
    assert body["response"] and "provider" not in body["response"].lower()
    stream = await gateway.client.post(
        "/api/chat/stream", json={"message": "anyone?"}, headers=headers
    )
    assert stream.status_code == 503
    async with gateway.runtime.db.transaction() as session:
        rows = (await session.scalars(select(Interaction))).all()
    assert len(rows) == 2 and all(row.error_occurred for row in rows)


async def test_authentication_required(gateway: Gateway) -> None:
    response = await gateway.client.post("/api/chat/message", json={"message": "hi"})
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    bad = {"Authorization": "Bearer ck_not-a-real-key"}
    response = await gateway.client.post("/api/chat/message", json={"message": "hi"}, headers=bad)
    assert response.status_code == 401 and "unknown" in response.json()["detail"]


async def test_user_key_cannot_act_for_others_admin_can(gateway: Gateway) -> None:
    alice = await gateway.key("alice")
    response = await gateway.client.post(
        "/api/chat/message", json={"message": "hi", "user_id": "bob"}, headers=alice
    )
    assert response.status_code == 404
    admin = await gateway.key("root", admin=True)
    response = await gateway.client.post(
        "/api/chat/message", json={"message": "hi", "user_id": "bob"}, headers=admin
    )
    assert response.status_code == 200
    session = await gateway.client.get("/api/chat/session/bob", headers=admin)
    assert session.json()["user_id"] == "bob" and session.json()["message_count"] == 2


async def test_reset_keeps_history(gateway: Gateway) -> None:
    headers = await gateway.key("erin")
    first = await gateway.client.post("/api/chat/message", json={"message": "hi"}, headers=headers)
    response = await gateway.client.post("/api/chat/reset", json={}, headers=headers)
    assert response.json() == {"success": True, "conversation_id": first.json()["conversation_id"]}
    assert await _messages(gateway) == 2


async def test_per_ip_limit_429_with_retry_after(runtime: object) -> None:
    from tests.conftest import make_settings
    from tests.fakes.conversation_ports import FakeChat
    from tests.fakes.gateway import clone_runtime
    from tests.integration.api.conftest import open_gateway

    settings = make_settings(
        str(runtime.db.engine.url.render_as_string(hide_password=False)),  # type: ignore[attr-defined]
        RATE_LIMIT_PER_IP_PER_MINUTE="3",
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE="2",
    )
    chat = FakeChat()
    clone = clone_runtime(runtime, chat=chat, settings=settings)  # type: ignore[arg-type]
    async for gateway in open_gateway(clone, chat):
        headers = await gateway.key("flo")
        # The limit counts in fixed minutes: four requests must fall in one of them.
        if time.time() % 60 > 50:
            await asyncio.sleep(60.5 - time.time() % 60)
        codes = []
        for _ in range(4):
            response = await gateway.client.get("/api/chat/session/flo", headers=headers)
            codes.append(response.status_code)
        assert codes == [200, 200, 200, 429]
        assert 1 <= int(response.headers["retry-after"]) <= 60
        assert "3 requests per minute" in response.json()["detail"]
