"""Ranking parts: reciprocal rank fusion, a turn's context, the bench's baselines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from companion.memory.benchmark import bm25_rank
from companion.memory.context import (
    NEIGHBOUR_CHARS,
    Turn,
    context_text,
    embedding_text,
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
