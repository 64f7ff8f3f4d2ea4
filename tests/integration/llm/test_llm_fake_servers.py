"""The loopback fakes speak the real protocols: checked with the official openai client."""

from __future__ import annotations

import httpx
import openai
import pytest
from tests.fakes import FakeGeminiServer, FakeOpenAIServer, Reply


@pytest.fixture
async def sdk(openai_server: FakeOpenAIServer):
    client = openai.AsyncOpenAI(base_url=openai_server.base_url, api_key="k", max_retries=0)
    yield client
    await client.close()


async def test_chat_json_streaming_and_usage(sdk, openai_server: FakeOpenAIServer) -> None:
    openai_server.enqueue(Reply(text="Hello there friend"))
    reply = await sdk.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "Hello there friend"
    assert reply.usage is not None and reply.usage.completion_tokens == 3

    stream = await sdk.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "say it"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage = [], None
    async for chunk in stream:
        pieces += [c.delta.content or "" for c in chunk.choices]
        usage = chunk.usage or usage
    assert "".join(pieces) == "echo: say it"
    assert usage is not None and usage.total_tokens > 0
    assert openai_server.chat_requests[-1]["stream"] is True


async def test_scripted_failures(sdk, openai_server: FakeOpenAIServer) -> None:
    openai_server.enqueue(Reply(status=429), Reply(malformed=True))
    with pytest.raises(openai.RateLimitError):
        await sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(ValueError):  # the SDK surfaces the JSONDecodeError
        await sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])


async def test_embeddings_and_models(sdk) -> None:
    result = await sdk.embeddings.create(model="e", input=["a", "b"], dimensions=16)
    assert [len(d.embedding) for d in result.data] == [16, 16]
    assert result.data[0].embedding != result.data[1].embedding
    assert [m.id async for m in sdk.models.list()] == ["fake-model"]


async def test_gemini_batch_shape_and_key(gemini_server: FakeGeminiServer) -> None:
    url = f"{gemini_server.base_url}/models/gemini-embedding-001:batchEmbedContents"
    item = {
        "model": "models/gemini-embedding-001",
        "content": {"parts": [{"text": "hello"}]},
        "taskType": "RETRIEVAL_QUERY",
        "outputDimensionality": 8,
    }
    async with httpx.AsyncClient() as http:
        ok = await http.post(
            url, json={"requests": [item]}, headers={"x-goog-api-key": "gemini-test-key"}
        )
        bad = await http.post(url, json={"requests": [item]}, headers={"x-goog-api-key": "nope"})
    assert len(ok.json()["embeddings"][0]["values"]) == 8
    assert bad.status_code == 400 and bad.json()["error"]["status"] == "API_KEY_INVALID"
