"""Hosted embedders and hosted chains built from settings, against loopback fakes."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import make_settings
from tests.fakes import FakeGeminiServer, FakeOpenAIServer

from companion.errors import ConfigError, ProviderAuthError
from companion.llm import ChatMessage, ChatRequest, build_models, describe_configuration
from companion.llm.providers.gemini import GeminiEmbedder
from companion.llm.providers.openai_compat import OpenAICompatEmbedder, OpenAICompatProvider
from companion.store.kv import MemoryStore


async def test_gemini_task_types_dimension_and_unit_length(gemini_server: FakeGeminiServer):
    embedder = GeminiEmbedder(api_key="gemini-test-key", base_url=gemini_server.base_url)
    try:
        texts = [f"memory {i}" for i in range(130)]  # two batches (API limit 100)
        documents = await embedder.embed(texts, task="document")
        query = await embedder.embed(["memory 0"], task="query")
    finally:
        await embedder.aclose()
    assert len(documents) == 130 and len(documents[0]) == 1536
    assert np.allclose(np.linalg.norm(documents, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(documents[0], query[0])  # task type reached the server
    items = [i for r in gemini_server.requests for i in r.body["requests"]]
    assert {i["taskType"] for i in items} == {"RETRIEVAL_DOCUMENT", "RETRIEVAL_QUERY"}
    assert {i["outputDimensionality"] for i in items} == {1536}
    assert all("key=" not in r.path for r in gemini_server.requests)


async def test_gemini_bad_key_is_an_auth_error(gemini_server: FakeGeminiServer) -> None:
    embedder = GeminiEmbedder(api_key="wrong", base_url=gemini_server.base_url)
    with pytest.raises(ProviderAuthError) as error:
        await embedder.embed(["x"], task="query")
    await embedder.aclose()
    assert "wrong" not in str(error.value)


async def test_openai_embeddings_in_order(openai_server: FakeOpenAIServer) -> None:
    embedder = OpenAICompatEmbedder(base_url=openai_server.base_url, api_key="k", dimensions=32)
    vectors = await embedder.embed(["a", "b", "a"], task="document")
    await embedder.aclose()
    assert [len(v) for v in vectors] == [32, 32, 32]
    assert np.allclose(vectors[0], vectors[2]) and not np.allclose(vectors[0], vectors[1])


async def test_list_models(openai_server: FakeOpenAIServer) -> None:
    provider = OpenAICompatProvider(
        "vllm", base_url=openai_server.base_url, api_key=None, model="m"
    )
    assert await provider.list_models() == ["fake-model"]
    await provider.aclose()


async def test_setting_a_key_switches_to_the_hosted_provider(
    database_url: str, openai_server: FakeOpenAIServer
) -> None:
    settings = make_settings(
        database_url,
        CHAT_PROVIDERS="openai:big-model",
        OPENAI_API_KEY="sk-test",
        OPENAI_BASE_URL=openai_server.base_url,
    )
    models = await build_models(settings=settings, db=None, kv=MemoryStore())
    try:
        assert models.chat.capable is True
        reply = await models.chat.complete(ChatRequest(messages=[ChatMessage("user", "hey")]))
        assert (reply.text, reply.provider, reply.model) == ("echo: hey", "openai", "big-model")
        assert [p["id"] for p in models.describe()["chat"]["providers"]] == ["openai", "local"]
        assert models.fast.capable is False  # no fast provider: the local model only
    finally:
        await models.aclose()


def test_doctor_rows_fail_on_missing_key_and_missing_gguf(database_url: str) -> None:
    settings = make_settings(
        database_url, FAST_PROVIDERS="groq", COMPANION_LOCAL_MODEL="/nonexistent/model.gguf"
    )
    rows = {name: (status, details) for name, status, details in describe_configuration(settings)}
    assert rows["llm fast"][0] == "FAIL" and "GROQ_API_KEY" in rows["llm fast"][1]
    assert rows["llm chat"][0] == "ok"
    assert rows["local model"][0] == "FAIL"
    assert rows["embedder"][0] == "ok"


async def test_hosted_embedder_without_key_is_a_config_error(database_url: str) -> None:
    settings = make_settings(database_url, EMBEDDING_PROVIDER="gemini")
    with pytest.raises(ConfigError) as error:
        await build_models(settings=settings, db=None, kv=MemoryStore())
    assert error.value.variable == "GEMINI_API_KEY"


async def test_the_turns_stop_sequences_are_cut_to_the_four_hosted_apis_accept(
    openai_server: FakeOpenAIServer,
) -> None:
    from companion.conversation.loopguard import STOP_SEQUENCES

    assert len(STOP_SEQUENCES) > 4  # what the pipeline asks for
    provider = OpenAICompatProvider(
        "openai", base_url=openai_server.base_url, api_key="k", model="m"
    )
    request = ChatRequest(messages=[ChatMessage("user", "hi")], stop=STOP_SEQUENCES)
    items = [item async for item in provider.stream(request)]
    await provider.aclose()
    assert "".join(getattr(item, "text", "") or "" for item in items)  # answered, not a 400
    assert openai_server.chat_requests[-1]["stop"] == list(STOP_SEQUENCES[:4])
