"""Neighbour spread: a strong match lifts the turns said just before and after it."""

from __future__ import annotations

import pytest

from companion.memory.ranking import neighbour_pairs, spread_to_neighbours


def test_pairs_are_consecutive_positions_only() -> None:
    pairs = neighbour_pairs({"a": 10, "b": 11, "c": 13, "d": 14, "e": 20})
    assert sorted(pairs) == [("a", "b"), ("c", "d")]
    assert neighbour_pairs({"a": 1}) == []
    assert neighbour_pairs({}) == []


def test_spread_lifts_the_neighbour_of_a_strong_hit_above_a_lone_one() -> None:
    # "q" asked the question, "answer" is the reply right after it; "lone" matched a bit
    # better than the answer but has no strong neighbour.
    scores = {"q": 1.0, "answer": 0.3, "lone": 0.4}
    spread = spread_to_neighbours(scores, [("q", "answer")], share=0.5)
    assert spread["answer"] == pytest.approx(0.8)
    assert spread["answer"] > spread["lone"] == 0.4
    assert spread["q"] == pytest.approx(1.15)  # its own best neighbour


def test_spread_uses_original_scores_and_ignores_unknown_ids() -> None:
    # A run of three turns: nothing compounds along it (c gets nothing from a via b).
    scores = {"a": 1.0, "b": 0.0, "c": 0.0}
    spread = spread_to_neighbours(scores, [("a", "b"), ("b", "c"), ("c", "zz")], share=0.5)
    assert spread == {"a": 1.0, "b": pytest.approx(0.5), "c": 0.0}
    assert "zz" not in spread
    assert spread_to_neighbours(scores, [], share=0.5) == scores


def test_zero_share_changes_nothing() -> None:
    scores = {"a": 0.9, "b": 0.1}
    assert spread_to_neighbours(scores, [("a", "b")], share=0.0) == scores


def test_a_line_between_two_hits_gets_its_best_neighbour_not_the_sum() -> None:
    scores = {"a": 0.8, "between": 0.1, "c": 0.6}
    spread = spread_to_neighbours(scores, [("a", "between"), ("between", "c")], share=0.5)
    assert spread["between"] == pytest.approx(0.1 + 0.5 * 0.8)
    assert spread["a"] == pytest.approx(0.8 + 0.5 * 0.1)
