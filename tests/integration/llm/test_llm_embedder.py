"""The real local embedder (int8 MiniLM on onnxruntime) and its cache in the runtime's store."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from companion.llm import CachedEmbedder
from companion.llm.embed_cache import embedding_cache_key
from companion.llm.local_embedder import MINILM_DYNAMIC_ID, MINILM_MODEL_ID, MiniLMEmbedder
from companion.llm.minilm_quantize import quantized_model
from companion.store.kv import MemoryStore, RedisStore

#: Our own lines of mixed length and topic (chat lines to long monologues).
_LINES = [
    "ok",
    "Thanks!",
    "I adopted a grey kitten called Pepper last week.",
    "My brother Tomas moved to Rotterdam for a job at the port.",
    "Do you remember what I said about the pottery class?",
    "We drove up the coast on Saturday and stopped at every bakery on the way, which "
    "my partner thought was excessive but I regret nothing at all.",
    "The doctor said my knee needs six more weeks before I can run again.",
    "I'm learning Portuguese because my grandmother only speaks it at home.",
    "What's a good recipe for a rainy evening?",
    "My daughter's school play is on the 14th and she plays a talking tree.",
    "I have been thinking a lot lately about whether to go back to university, since the "
    "evening courses in landscape architecture start in autumn and the fees are lower "
    "than I expected, but it would mean giving up my Thursday band rehearsals.",
    "Lost my wallet on the tram again.",
]


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture(scope="module")
def minilm_float() -> MiniLMEmbedder:
    return MiniLMEmbedder(quantize=False)


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


async def test_batch_order_matches_input_order(minilm_float: MiniLMEmbedder) -> None:
    texts = ["short", "a considerably longer text about gardening and tomatoes", "mid length"]
    batch = await minilm_float.embed(texts, task="document")
    singles = [(await minilm_float.embed([t], task="document"))[0] for t in texts]
    assert np.allclose(batch, singles, atol=1e-4)


def test_length_sorted_batches_come_back_in_input_order(minilm_float: MiniLMEmbedder) -> None:
    # Lengths interleaved so that every batch of 3 mixes positions from all over the list.
    texts = [*_LINES, "ok", _LINES[5]]  # repeats are embedded once, returned twice
    before = minilm_float.model_calls
    batched = minilm_float.embed_sync(texts, batch=3)
    assert minilm_float.model_calls == before + len(_LINES)
    singles = np.stack([minilm_float.embed_sync([t])[0] for t in texts])
    assert np.allclose(batched, singles, atol=1e-4)
    assert np.array_equal(batched[-2], batched[0])


def test_a_single_text_on_one_thread_gets_the_batch_sessions_vector(
    minilm: MiniLMEmbedder,
) -> None:
    """A text alone runs on a one-thread session (a query's latency); its vector is the
    one the two-thread session gives the same text alone. (Within a batch it differs a
    little either way: the int8 products scale activations over the whole batch.)"""
    two = MiniLMEmbedder(threads=2, query_threads=2)  # one session for everything
    assert two.model_id == minilm.model_id
    for line in _LINES:
        assert np.allclose(minilm.embed_sync([line]), two.embed_sync([line]), rtol=0, atol=1e-6)
    # A text repeated is one text: the single-text path, once, its rows equal.
    before = minilm.model_calls
    repeated = minilm.embed_sync([_LINES[3], _LINES[3]])
    assert minilm.model_calls == before + 1
    assert np.array_equal(repeated[0], repeated[1])
    assert np.array_equal(repeated[:1], two.embed_sync([_LINES[3]]))


def test_quantised_model_agrees_with_the_float_one(
    minilm: MiniLMEmbedder, minilm_float: MiniLMEmbedder
) -> None:
    assert (minilm.model_id, minilm_float.model_id) == (MINILM_DYNAMIC_ID, MINILM_MODEL_ID)
    quant, float_ = minilm.embed_sync(_LINES), minilm_float.embed_sync(_LINES)
    cosines = (quant * float_).sum(axis=1)
    # Measured on LoCoMo turns: mean 0.992, lowest 0.98. Two-word lines agree least
    # (0.94-0.97 here: a few tokens, one coarse activation scale).
    assert cosines.mean() > 0.98
    assert cosines[2:].min() > 0.98
    assert cosines.min() > 0.92
    # Each line's nearest float vector is its own: rankings survive the quantisation.
    assert list(np.argmax(quant @ float_.T, axis=1)) == list(range(len(_LINES)))


def test_quantised_model_is_built_once_per_cache(tmp_path: Path) -> None:
    from companion.llm.local_embedder import minilm_model_path

    first = quantized_model(minilm_model_path(), tmp_path)
    assert first is not None and first.parent == tmp_path
    stamp = first.stat().st_mtime_ns
    assert quantized_model(minilm_model_path(), tmp_path) == first
    assert first.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no scratch left behind


def test_unwritable_cache_keeps_the_packaged_model(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    embedder = MiniLMEmbedder(cache_dir=blocker)
    assert embedder.model_id == MINILM_MODEL_ID
    assert embedder.embed_sync(["still works"]).shape == (1, 384)


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


def test_damaged_cached_model_keeps_the_packaged_one(tmp_path: Path) -> None:
    from companion.llm.local_embedder import minilm_model_path

    built = quantized_model(minilm_model_path(), tmp_path)
    assert built is not None
    built.write_bytes(b"not a model")
    embedder = MiniLMEmbedder(cache_dir=tmp_path)
    assert embedder.model_id == MINILM_MODEL_ID
    assert embedder.embed_sync(["still works"]).shape == (1, 384)


async def test_recent_vectors_are_served_from_the_process(minilm: MiniLMEmbedder) -> None:
    """A text embedded a moment ago (the same turn's screen, search and write) needs
    neither the store nor the model, and a caller changing its copy changes nothing."""
    kv = MemoryStore()
    cached = CachedEmbedder(minilm, kv)
    before = minilm.model_calls
    (first,) = await cached.embed(["what did I plant in the garden"], task="query")
    await kv.delete_pattern("*")  # gone from the store: only the process still has it
    first[0] += 1.0
    (again,) = await cached.embed(["what did I plant in the garden"], task="query")
    assert minilm.model_calls == before + 1
    assert again[0] == pytest.approx(first[0] - 1.0) and again[1:] == first[1:]
    assert (cached.hits, cached.misses) == (1, 1)
    # Asked without waiting (a search deciding whether it must embed): held, for its task.
    assert cached.recent("what did I plant in the garden", task="query") == again
    assert cached.recent("what did I plant in the garden", task="document") is None
    assert cached.recent("a line never embedded", task="query") is None
    # A large batch (an import) is not kept in the process: it would only push out the rest.
    texts = [f"imported line {i}" for i in range(200)]
    await cached.embed(texts, task="document")
    await kv.delete_pattern("*")
    await cached.embed(texts[:1], task="document")
    assert minilm.model_calls == before + 1 + 200 + 1


class _HeldStore(MemoryStore):
    """A store whose writes wait until the test lets them through (or fail if told)."""

    def __init__(self, *, fail: bool = False) -> None:
        super().__init__()
        self.release, self.entered = asyncio.Event(), asyncio.Event()
        self.fail = fail

    async def set_many(self, items: Mapping[str, bytes], *, ttl: float | None = None) -> None:
        self.entered.set()
        await self.release.wait()
        if self.fail:
            raise ConnectionError("store down")
        await super().set_many(items, ttl=ttl)


async def test_a_query_does_not_wait_for_its_cache_write(minilm: MiniLMEmbedder) -> None:
    """A single text comes back while its write to the store is still held; the write
    lands afterwards, and a second embedder on the same store then needs no model."""
    kv = _HeldStore()
    cached = CachedEmbedder(minilm, kv)
    (vector,) = await asyncio.wait_for(cached.embed(["my bike got a flat"], task="query"), 30)
    assert len(vector) == 384
    assert await kv.get_many([_key(cached, "my bike got a flat")]) == [None]  # not yet
    kv.release.set()
    await cached.flush()
    other = CachedEmbedder(minilm, kv)
    before = minilm.model_calls
    (again,) = await other.embed(["my bike got a flat"], task="query")
    assert minilm.model_calls == before
    assert np.allclose(again, vector, atol=1e-6)


async def test_a_failed_background_cache_write_is_only_logged(minilm: MiniLMEmbedder) -> None:
    kv = _HeldStore(fail=True)
    kv.release.set()
    cached = CachedEmbedder(minilm, kv)
    (vector,) = await cached.embed(["the tram was late"], task="query")
    await cached.aclose()  # waits for the failed write without raising
    assert len(vector) == 384
    assert await kv.get_many([_key(cached, "the tram was late")]) == [None]


async def test_a_large_batch_waits_for_its_cache_write(minilm: MiniLMEmbedder) -> None:
    kv = _HeldStore()
    cached = CachedEmbedder(minilm, kv)
    texts = [f"imported line {i}" for i in range(200)]
    pending = asyncio.ensure_future(cached.embed(texts, task="document"))
    await asyncio.wait_for(kv.entered.wait(), 60)
    await asyncio.sleep(0.05)
    assert not pending.done()  # held by its write
    kv.release.set()
    assert len(await asyncio.wait_for(pending, 60)) == 200


def _key(cached: CachedEmbedder, text: str) -> str:
    return embedding_cache_key(cached.model_id, cached.dimensions, task="query", text=text)
