"""The service API's routes (read exactly as its client does) and the OpenAI-compatible API."""

from __future__ import annotations

import json
import uuid

import httpx
import openai
import pytest
from httpx import ASGITransport
from sqlalchemy import func, select
from tests.integration.api.conftest import Gateway

from companion.memory.models import Memory
from companion.store.models import Conversation


async def _service_chat(
    gateway: Gateway, headers: dict[str, str], **body: object
) -> tuple[str, dict]:
    """The service API's Python client example, verbatim in spirit."""
    text, last = "", {}
    async with gateway.client.stream(
        "POST", "/chat", json={"conversation_id": None, **body}, headers=headers, timeout=60.0
    ) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                data = json.loads(line[6:])
                if "chunk" in data:
                    text += data["chunk"]
                last = data
    return text, last


async def test_service_chat_reset_clear(gateway: Gateway) -> None:
    headers = await gateway.key("alice")
    text, last = await _service_chat(gateway, headers, message="Hello, my name is Alice")
    assert text == gateway.chat.default
    assert last == {"chunk": "", "done": True, "conversation_id": last["conversation_id"]}
    conversation_id = last["conversation_id"]

    _, again = await _service_chat(
        gateway, headers, message="Still me", conversation_id=conversation_id
    )
    assert again["conversation_id"] == conversation_id
    _, fresh = await _service_chat(gateway, headers, message="New chat")
    assert fresh["conversation_id"] != conversation_id  # null starts a new conversation

    reset = await gateway.client.post(
        "/conversation/reset", json={"conversation_id": conversation_id}, headers=headers
    )
    assert reset.json() == {
        "success": True,
        "message": "Conversation reset successfully",
        "conversation_id": conversation_id,
    }
    await gateway.service.drain()  # the turns' memories are written in the background
    async with gateway.runtime.db.session() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(Memory)
            .where(Memory.user_id == "alice", Memory.conversation_id == uuid.UUID(conversation_id))
        )
    assert stored and stored >= 2  # "Hello, my name is Alice" and "Still me"
    clear = await gateway.client.post(
        "/memory/clear", json={"conversation_id": conversation_id}, headers=headers
    )
    assert clear.status_code == 200
    body = clear.json()
    assert body["success"] and body["message"] == "Memories cleared successfully"
    assert body["memories_cleared"] == stored
    async with gateway.runtime.db.session() as session:
        left = await session.scalar(
            select(func.count())
            .select_from(Memory)
            .where(Memory.conversation_id == uuid.UUID(conversation_id))
        )
        others = await session.scalar(
            select(func.count()).select_from(Memory).where(Memory.user_id == "alice")
        )
    assert left == 0 and others and others >= 1  # "New chat" is another conversation


async def test_service_api_foreign_conversation_is_404(gateway: Gateway) -> None:
    bob = await gateway.key("bob")
    _, theirs = await _service_chat(gateway, bob, message="secret")
    alice = await gateway.key("alice")
    for path in ("/conversation/reset", "/memory/clear"):
        response = await gateway.client.post(
            path, json={"conversation_id": theirs["conversation_id"]}, headers=alice
        )
        assert response.status_code == 404
    response = await gateway.client.post(
        "/chat", json={"message": "hi", "conversation_id": theirs["conversation_id"]}, headers=alice
    )
    assert response.status_code == 404


def _openai(gateway: Gateway, key: str) -> openai.AsyncOpenAI:
    app = gateway.app
    http = httpx.AsyncClient(transport=ASGITransport(app=app), base_url="http://test")
    return openai.AsyncOpenAI(base_url="http://test/v1", api_key=key, http_client=http)


async def test_openai_client_non_streaming(gateway: Gateway) -> None:
    key = (await gateway.key("olga"))["Authorization"].removeprefix("Bearer ")
    client = _openai(gateway, key)
    completion = await client.chat.completions.create(
        model="companion",
        messages=[
            {"role": "system", "content": "You are a pirate."},
            {"role": "user", "content": "old message, ignored"},
            {"role": "assistant", "content": "old reply"},
            {"role": "user", "content": "What's new?"},
        ],
    )
    assert completion.choices[0].message.content == gateway.chat.default
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    last_prompt = gateway.chat.requests[-1].messages
    assert last_prompt[-1].content == "What's new?"
    assert not any("pirate" in m.content or "ignored" in m.content for m in last_prompt)
    models = await client.models.list()
    assert [m.id for m in models.data] == ["companion"]


async def test_openai_client_streaming_and_continuity(gateway: Gateway) -> None:
    key = (await gateway.key("olga"))["Authorization"].removeprefix("Bearer ")
    client = _openai(gateway, key)
    stream = await client.chat.completions.create(
        model="companion", messages=[{"role": "user", "content": "Hi!"}], stream=True
    )
    pieces, finish = [], None
    async for chunk in stream:
        choice = chunk.choices[0]
        pieces.append(choice.delta.content or "")
        finish = choice.finish_reason or finish
    assert "".join(pieces) == gateway.chat.default and finish == "stop"
    await client.chat.completions.create(
        model="companion", messages=[{"role": "user", "content": "Again"}]
    )
    history = gateway.chat.requests[-1].messages
    assert any(m.content == "Hi!" for m in history[1:-1])  # same conversation continues


@pytest.mark.parametrize(
    ("messages", "needle"),
    [
        ([{"role": "assistant", "content": "hi"}], "no message with role 'user'"),
        ([{"role": "user", "content": "  "}], "no text"),
        ([], "messages"),
    ],
)
async def test_openai_bad_requests(gateway: Gateway, messages: list, needle: str) -> None:
    headers = await gateway.key("olga")
    response = await gateway.client.post(
        "/v1/chat/completions", json={"model": "companion", "messages": messages}, headers=headers
    )
    assert response.status_code == 422 and needle in response.json()["error"]["message"]


async def test_openai_provider_failure_is_503(gateway: Gateway) -> None:
    gateway.chat.fail = True
    key = (await gateway.key("olga"))["Authorization"].removeprefix("Bearer ")
    client = _openai(gateway, key)
    with pytest.raises(openai.APIStatusError) as caught:
        await client.with_options(max_retries=0).chat.completions.create(
            model="companion", messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.status_code == 503
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "TurnFailed"
    assert body["response"]
    async with gateway.runtime.db.session() as session:
        stored = await session.scalar(
            select(Conversation).where(Conversation.id == uuid.UUID(body["conversation_id"]))
        )
    assert stored is not None and stored.user_id == "olga"  # the apology's real conversation
