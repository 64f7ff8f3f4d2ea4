"""The query-embedding bench on the real local model and a real Redis."""

from __future__ import annotations

import pytest

from companion.bench.memory_latency import fresh_queries
from companion.bench.query_embedding import pieces, session_options, through_cache
from companion.llm.local_embedder import MiniLMEmbedder


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()


async def test_misses_run_the_model_and_hits_do_not(minilm: MiniLMEmbedder, redis_url: str) -> None:
    queries = fresh_queries(6, seed=7)
    rows = await through_cache(minilm, redis_url, queries)
    assert rows["miss (never seen)"]["model runs"] == 6
    assert rows["hit (from Redis)"]["model runs"] == 0
    assert all(row["p50_ms"] <= row["p95_ms"] for row in rows.values())


def test_pieces_time_every_step(minilm: MiniLMEmbedder) -> None:
    rows = pieces(minilm, fresh_queries(25, seed=8))
    assert {"tokenise", "session.run", "pool + normalise", "embed_sync, whole"} <= set(rows)
    assert 5 < rows["mean tokens"]["tokens"] < 30  # short queries, unpadded


def test_settings_that_keep_the_vectors_are_told_apart(minilm: MiniLMEmbedder) -> None:
    """Threads, spinning, IOBinding and the memory pattern give our very outputs; the
    basic optimisation level does not (its unfused integer products round otherwise)."""
    rows = session_options(minilm, fresh_queries(4, seed=9), rounds=1)
    same = [
        "ours (1 thread, all optimisations, no spinning)",
        "2 intra-op threads",
        "spinning allowed",
        "IOBinding, preallocated output",
        "no memory pattern",
    ]
    for name in same:
        assert rows[name]["max_diff"] == 0.0, name
    assert rows["basic optimisations only"]["max_diff"] > 1e-3
