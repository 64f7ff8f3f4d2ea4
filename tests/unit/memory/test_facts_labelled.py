"""The rule fact extractor on our labelled chat messages (tuning part and held-out part)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from companion.memory.dates import resolve_relative
from companion.memory.facts import extract_facts
from companion.memory.facts_eval import LABEL_TIME, load_labelled, matches, score_extractor
from companion.memory.facts_text import clauses

DATA = Path(__file__).resolve().parents[3] / "bench/data/memory"


@pytest.mark.parametrize("name", ["facts_labelled.jsonl", "facts_heldout.jsonl"])
def test_precision_and_recall_on_the_labelled_sets(name: str) -> None:
    rows = load_labelled(DATA / name)
    score = score_extractor(rows)
    assert score.precision >= 0.85 and score.recall >= 0.85, score.errors


def test_labelled_set_is_large_enough() -> None:
    assert len(load_labelled(DATA / "facts_labelled.jsonl")) >= 200


def test_maya_gets_her_name_an_undated_move_and_the_upcoming_job() -> None:
    text = "Hi! I'm Maya. I just moved to Lisbon and I'm starting a job at a bakery next week."
    facts = [f.content for f in extract_facts(text, speaker="User", at=LABEL_TIME)]
    assert "User's name is Maya" in facts
    assert "User moved to and lives in Lisbon" in facts
    assert not any("Lisbon" in f and "2026-06-17" in f for f in facts)
    assert "User is starting a job at a bakery (on 2026-06-17)" in facts


@pytest.mark.parametrize(
    "text",
    [
        "If I had a dog, I would call him Rex.",
        "Do I like coffee?",
        "I wish I lived by the sea.",
        "Maybe I'll move to Berlin.",
        "Should I work at Google?",
        "I'm not sure I like my job.",
    ],
)
def test_questions_and_hypotheticals_store_nothing(text: str) -> None:
    assert extract_facts(text, speaker="User", at=LABEL_TIME) == []


def test_other_peoples_facts_are_theirs() -> None:
    facts = {
        f.content: f.fact_key
        for f in extract_facts(
            "My sister lives in Porto. My friend Jonas works at Spotify.",
            speaker="User",
            at=LABEL_TIME,
        )
    }
    assert facts["User's sister lives in Porto"] == "user's sister|lives_in"
    assert facts["Jonas works at Spotify"] == "jonas|works_at"
    assert "User lives in Porto" not in facts


def test_clauses_keep_dates_with_their_own_clause() -> None:
    parts = [c.text for c in clauses("I moved here last year, and I'm flying home tomorrow")]
    assert parts == ["I moved here last year", "I'm flying home tomorrow"]
    assert [c.text for c in clauses("My boyfriend and I broke up.")] == [
        "My boyfriend and I broke up"
    ]


def test_weekends_are_named_by_their_saturday() -> None:
    wednesday = LABEL_TIME  # 2026-06-10
    assert resolve_relative("this weekend", wednesday).day == date(2026, 6, 13)  # type: ignore[union-attr]
    assert resolve_relative("next weekend", wednesday).day == date(2026, 6, 20)  # type: ignore[union-attr]
    assert resolve_relative("last weekend", wednesday).day == date(2026, 6, 6)  # type: ignore[union-attr]


def test_fragment_matching() -> None:
    assert matches("User moved to Lisbon", ["lisbon", "!2026"])
    assert not matches("User moved to Lisbon (on 2026-06-17)", ["lisbon", "!2026"])
