"""The real local embedder (int8 MiniLM on onnxruntime) and its cache in the runtime's store."""

from __future__ import annotations

import numpy as np
import pytest

from companion.llm import CachedEmbedder
from companion.llm.local_embedder import MiniLMEmbedder
from companion.store.kv import MemoryStore, RedisStore


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()


async def test_vectors_are_384_d_unit_length(minilm: MiniLMEmbedder) -> None:
    vectors = await minilm.embed(["hello there", "", "a much longer sentence " * 80], task="query")
    assert [len(v) for v in vectors] == [384, 384, 384]
    assert np.allclose(np.linalg.norm(np.array(vectors), axis=1), 1.0, atol=1e-4)


async def test_similar_sentences_score_higher_than_unrelated(minilm: MiniLMEmbedder) -> None:
    dog, puppy, market, paris_q, paris_a = np.array(
        await minilm.embed(
            [
                "I love my dog",
                "My puppy is adorable and I adore him",
                "The stock market fell sharply today",
                "What is the capital of France?",
                "Paris is the capital city of France",
            ],
            task="document",
        )
    )
    assert dog @ puppy > dog @ market + 0.3
    assert paris_q @ paris_a > paris_q @ market + 0.3


async def test_batch_order_matches_input_order(minilm: MiniLMEmbedder) -> None:
    texts = ["short", "a considerably longer text about gardening and tomatoes", "mid length"]
    batch = await minilm.embed(texts, task="document")
    singles = [(await minilm.embed([t], task="document"))[0] for t in texts]
    assert np.allclose(batch, singles, atol=1e-4)


@pytest.mark.parametrize("store_kind", ["memory", "redis"])
async def test_cache_hits_skip_the_model(
    minilm: MiniLMEmbedder, redis_url: str, store_kind: str
) -> None:
    kv = MemoryStore() if store_kind == "memory" else RedisStore(redis_url, prefix="embtest:")
    try:
        await kv.delete_pattern("*")
        cached = CachedEmbedder(minilm, kv)
        before = minilm.model_calls
        first = await cached.embed(["remember my sister's birthday", "new text"], task="query")
        assert minilm.model_calls == before + 2
        again = await cached.embed(["remember my sister's birthday"], task="query")
        assert minilm.model_calls == before + 2
        assert np.allclose(again[0], first[0], atol=1e-6)
        # The task type is part of the key: a document embedding is a separate entry.
        await cached.embed(["remember my sister's birthday"], task="document")
        assert minilm.model_calls == before + 3
        assert (cached.hits, cached.misses) == (1, 3)
    finally:
        await kv.delete_pattern("*")
        await kv.close()


async def test_runtime_models_expose_the_cached_embedder(runtime: object) -> None:
    models = runtime.models  # type: ignore[attr-defined]
    assert models.embedder.dimensions == 384
    described = models.describe()
    assert described["embedder"]["dimensions"] == 384
    assert described["chat"]["providers"][-1]["id"] == "local"
    assert models.chat.capable is False
