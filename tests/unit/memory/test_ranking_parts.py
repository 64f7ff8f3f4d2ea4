"""Ranking parts: reciprocal rank fusion, a turn's context, the bench's baselines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from companion.bench.memory_quality import bm25_rank
from companion.memory.context import (
    NEIGHBOUR_CHARS,
    Turn,
    context_text,
    embedding_text,
    mix_neighbours,
    neighbour_contexts,
)
from companion.memory.ranking import rrf

AT = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


def test_rrf_rewards_agreement_and_stays_in_unit_range() -> None:
    fused = rrf(["a", "b", "c"], ["b", "d"])
    assert max(fused, key=lambda key: fused[key]) == "b"  # second and first beats first alone
    assert fused["a"] > fused["c"] and fused["a"] > fused["d"] * 0.99
    assert all(0 < value <= 1 for value in fused.values())
    assert rrf(["x"], ["x"]) == {"x": pytest.approx(1.0)}
    assert rrf() == {}


def test_rrf_smaller_constant_trusts_the_top_more() -> None:
    lists = (["a", "b"], ["b", "a"], ["a", "c"])
    sharp, flat = rrf(*lists, k=1), rrf(*lists, k=1000)
    assert sharp["a"] / sharp["c"] > flat["a"] / flat["c"]


def test_context_has_day_and_neighbours_within_a_session() -> None:
    turns = [
        Turn("Noor: Have you been to Japan?", AT, "0"),
        Turn("Maya: Yes, twice!", AT + timedelta(seconds=30), "0"),
        Turn("Noor: Lucky you.", AT + timedelta(seconds=60), "0"),
        Turn("Maya: Morning!", AT + timedelta(days=40), "1"),
    ]
    contexts = neighbour_contexts(turns)
    assert contexts[1] == "8 May 2023 \nNoor: Have you been to Japan? \nNoor: Lucky you."
    assert "Lucky" not in contexts[3] and contexts[3] == "17 June 2023"
    with_context = embedding_text("Maya: Yes, twice!", contexts[1], with_context=True)
    assert with_context.startswith("Maya: Yes, twice!\n") and "Japan" in with_context
    assert embedding_text("Maya: hi", None) == "Maya: hi"


def test_long_neighbours_are_cut_at_a_word() -> None:
    long = "word " * 200
    text = context_text(AT, long, None)
    assert len(text) <= NEIGHBOUR_CHARS + 20 and not text.endswith("wor")


def test_bm25_baseline_weighs_rare_words() -> None:
    docs = ["Caroline: I went out", "Caroline: I love my guitar", "Caroline: I went home"]
    assert bm25_rank(docs, "Caroline guitar")[0] == 1


def test_neighbour_mix_stays_unit_and_within_the_session() -> None:
    turns = [Turn("a", AT, "0"), Turn("b", AT, "0"), Turn("c", AT, "1")]
    vectors: list[list[float] | None] = [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
    mixed = mix_neighbours(turns, vectors, share=0.5)
    first, second, third = (m for m in mixed if m is not None)
    assert first[1] > 0 and abs(sum(x * x for x in first) - 1) < 1e-9
    assert second[0] > 0  # the turn before, same session
    assert third == [1.0, 0.0]  # a new session: no neighbour
    assert mix_neighbours(turns, [None, [0.0, 1.0], None])[0] is None


def test_one_result_per_source_message() -> None:
    import uuid

    from companion.memory.retrieval import _one_per_source
    from companion.memory.search import Hit

    def hit(kind: str, content: str, score: float, sources: list[str]) -> Hit:
        return Hit(
            id=uuid.uuid4(), content=content, memory_type=kind, importance=0.5,
            created_at=AT, valid_from=None, invalid_at=None, event_at=None,
            source_message_ids=[], source_external_ids=sources, speaker=None,
            document_id=None, vector=None, similarity=None, text_rank=None,
            score=score,
        )  # fmt: skip

    hits = [
        hit("episodic", "Maya: Big news: I got a new job at Spotify.", 0.8, ["d2"]),
        hit("semantic", "Maya works at Spotify", 0.9, ["d2"]),
        hit("episodic", "Maya: I work at Google.", 0.7, ["d1"]),
        hit("document", "a chunk", 0.6, []),
    ]
    kept = [h.content for h in _one_per_source(hits)]
    assert kept == ["Maya works at Spotify", "Maya: I work at Google.", "a chunk"]
