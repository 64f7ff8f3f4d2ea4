"""The hosted providers' HTTP client against a real loopback server: event loops, errors,
timeouts, and Server-Sent Events split across network reads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from tests.fakes import FakeOpenAIServer, Reply
from tests.fakes.raw_sse import RawSSEServer

from companion.errors import ProviderError, ProviderTimeout
from companion.llm.base import ChatMessage, ChatRequest
from companion.llm.providers.openai_compat import OpenAICompatProvider

REQUEST = ChatRequest(messages=[ChatMessage("user", "hi")], max_tokens=5)


def test_a_provider_answers_on_a_second_event_loop(openai_server: FakeOpenAIServer) -> None:
    provider = OpenAICompatProvider(
        "vllm", base_url=openai_server.base_url, api_key=None, model="m"
    )

    async def models() -> list[str]:
        try:
            return await provider.list_models()
        finally:
            await provider.aclose()  # the connections go with their loop

    assert asyncio.run(models()) == ["fake-model"]
    assert asyncio.run(models()) == ["fake-model"]  # a new session on the new loop


async def test_an_unreachable_server_is_a_provider_error() -> None:
    provider = OpenAICompatProvider(
        "gone", base_url="http://127.0.0.1:9/v1", api_key="k", model="m", timeout=2
    )
    try:
        with pytest.raises(ProviderError) as error:
            [item async for item in provider.stream(REQUEST)]
    finally:
        await provider.aclose()
    assert "gone:" in str(error.value) and not isinstance(error.value, ProviderTimeout)


async def test_a_silent_server_times_out_between_reads(openai_server: FakeOpenAIServer) -> None:
    openai_server.enqueue(Reply(hang=True))
    provider = OpenAICompatProvider(
        "slow", base_url=openai_server.base_url, api_key="k", model="m", timeout=0.3
    )
    try:
        with pytest.raises(ProviderTimeout):
            [item async for item in provider.stream(REQUEST)]
    finally:
        await provider.aclose()
        openai_server.release()


async def test_an_error_status_carries_the_body(openai_server: FakeOpenAIServer) -> None:
    openai_server.enqueue(Reply(status=503))
    provider = OpenAICompatProvider("p", base_url=openai_server.base_url, api_key="k", model="m")
    try:
        with pytest.raises(ProviderError) as error:
            [item async for item in provider.stream(REQUEST)]
    finally:
        await provider.aclose()
    assert error.value.status == 503 and "scripted 503" in str(error.value)


class _ByteServer(RawSSEServer):
    """Sends one SSE body a few bytes at a time, so events and UTF-8 characters arrive
    split across reads, with CRLF line ends as some servers send."""

    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body = body

    async def answer(self, writer: asyncio.StreamWriter) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
        )
        for start in range(0, len(self.body), 7):
            writer.write(self.body[start : start + 7])
            await writer.drain()
            await asyncio.sleep(0.001)
        return False


@pytest.fixture
async def split_server() -> AsyncIterator[_ByteServer]:
    events = [
        {"choices": [{"index": 0, "delta": {"content": "Ciao, così "}}]},
        {"choices": [{"index": 0, "delta": {"content": "è — più 😊"}, "finish_reason": "stop"}]},
        {"choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 3}},
    ]
    lines = [": a comment\r\n", "event: message\r\n"]
    lines += [f"data: {json.dumps(e, ensure_ascii=False)}\r\n\r\n" for e in events]
    server = _ByteServer(("".join(lines) + "data: [DONE]\r\n\r\n").encode())
    yield server
    await server.stop()


async def test_events_split_across_reads_are_put_back_together(split_server: _ByteServer) -> None:
    base = await split_server.start()
    provider = OpenAICompatProvider("p", base_url=base, api_key="k", model="m")
    try:
        chunks = [chunk async for chunk in provider.stream(REQUEST)]
    finally:
        await provider.aclose()
    assert "".join(c.text for c in chunks) == "Ciao, così è — più 😊"
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 3
