"""Neighbour spread: a strong turn lifts the memories said just before and after it."""

from __future__ import annotations

import pytest

from companion.memory.ranking import spread_to_neighbours


def test_spread_lifts_the_neighbour_of_a_strong_hit_above_a_lone_one() -> None:
    # "q" asked the question, "answer" is the reply right after it; "lone" matched a bit
    # better than the answer but has no strong neighbour.
    scores = {"q": 1.0, "answer": 0.3, "lone": 0.4}
    spread = spread_to_neighbours(scores, {"q": 10, "answer": 11, "lone": 30}, share=0.5)
    assert spread["answer"] == pytest.approx(0.8)
    assert spread["answer"] > spread["lone"] == 0.4
    assert spread["q"] == pytest.approx(1.15)  # its own best neighbour


def test_only_consecutive_positions_count_and_nothing_compounds() -> None:
    scores = {"a": 1.0, "b": 0.0, "c": 0.0, "far": 0.0}
    spread = spread_to_neighbours(scores, {"a": 1, "b": 2, "c": 3, "far": 5}, share=0.5)
    assert spread == {"a": 1.0, "b": pytest.approx(0.5), "c": 0.0, "far": 0.0}


def test_a_line_between_two_hits_gets_its_best_neighbour_not_the_sum() -> None:
    scores = {"a": 0.8, "between": 0.1, "c": 0.6}
    spread = spread_to_neighbours(scores, {"a": 1, "between": 2, "c": 3}, share=0.5)
    assert spread["between"] == pytest.approx(0.1 + 0.5 * 0.8)
    assert spread["a"] == pytest.approx(0.8 + 0.5 * 0.1)


def test_a_fact_gets_its_turns_lift_but_lends_nothing() -> None:
    # The fact read from turn 11 sits at 11 beside its turn; only turns lend scores.
    scores = {"t10": 0.6, "t11": 0.5, "fact11": 0.9, "t12": 0.0}
    positions = {"t10": 10, "t11": 11, "fact11": 11, "t12": 12}
    spread = spread_to_neighbours(scores, positions, turns={"t10", "t11", "t12"}, share=0.5)
    assert spread["fact11"] - scores["fact11"] == pytest.approx(spread["t11"] - scores["t11"])
    assert spread["t12"] == pytest.approx(0.25)  # from t11, not from the stronger fact
    assert spread["fact11"] > spread["t11"]


def test_unpositioned_or_zero_share_changes_nothing() -> None:
    scores = {"a": 0.9, "b": 0.1}
    assert spread_to_neighbours(scores, {"a": 1, "b": 2}, share=0.0) == scores
    assert spread_to_neighbours(scores, {}, share=0.5) == scores
    assert spread_to_neighbours(scores, {"a": 1, "zz": 2}, share=0.5) == scores
