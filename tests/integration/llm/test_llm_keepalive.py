"""Calls to an OpenAI-compatible server reuse one keep-alive connection.

The loopback server streams like real ones (chunked SSE, ``[DONE]`` before the end of
the body) and counts the TCP connections it accepts.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from tests.fakes.raw_sse import RawSSEServer

from companion.llm.base import ChatMessage, ChatRequest
from companion.llm.providers.openai_compat import OpenAICompatProvider


class ChunkedSSEServer(RawSSEServer):
    """Answers every chat completion with a chunked SSE stream and keeps the connection."""

    async def answer(self, writer: asyncio.StreamWriter) -> bool:
        events = [
            {"choices": [{"index": 0, "delta": {"content": "Hel"}}]},
            {"choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}]},
            {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}},
        ]
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        for payload in [*(f"data: {json.dumps(e)}\n\n" for e in events), "data: [DONE]\n\n"]:
            data = payload.encode()
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            await writer.drain()
            await asyncio.sleep(0.01)  # the end of the body comes after [DONE], as it does
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True


@pytest.fixture
async def server() -> AsyncIterator[ChunkedSSEServer]:
    sse = ChunkedSSEServer()
    yield sse
    await sse.stop()


async def test_streamed_calls_share_one_keep_alive_connection(server: ChunkedSSEServer) -> None:
    base = await server.start()
    provider = OpenAICompatProvider("local-vllm", base_url=base, api_key="k", model="m")
    request = ChatRequest(messages=[ChatMessage("user", "hi")], max_tokens=5)
    try:
        for _ in range(3):
            texts = []
            async for chunk in provider.stream(request):
                texts.append(chunk.text)
                if chunk.finish_reason:
                    break  # callers stop at the last chunk, as the pipeline does
            assert "".join(texts) == "Hello"
    finally:
        await provider.aclose()
    assert server.requests == 3
    assert server.connections == 1
