"""Scores of the conversation bench: recall, persona confusion, repetition, length."""

from __future__ import annotations

import pytest

from companion.bench.chats import CHATS
from companion.bench.conversation_scores import (
    claims_name,
    echo_rate,
    recalled,
    repeated_rate,
    score_reply,
    sentence_count,
    summarize,
)


def test_recall_is_a_whole_word_match_ignoring_case() -> None:
    assert recalled("Your dog is called biscuit, right?", ["Biscuit"])
    assert not recalled("Biscuits are tasty.", ["Biscuit"])
    assert recalled("You drive a bus!", ["driver", "bus"])
    assert not recalled("I don't know.", ["Porto"])


@pytest.mark.parametrize(
    ("reply", "confused"),
    [
        ("Hi! I'm Priya and I love the sea.", True),
        ("My name is Priya.", True),
        ("Priya here, how are you?", True),
        ("I’m Priya.", True),
        ("Hi Priya, I'm Sol!", False),
        ("Your name is Priya.", False),
        ("You're Priya, of course.", False),
    ],
)
def test_persona_confusion(reply: str, confused: bool) -> None:
    assert claims_name(reply, "Priya") is confused


def test_repetition_within_and_across_replies() -> None:
    assert repeated_rate("one two three four") == 0.0
    # 8 trigrams, 3 distinct: "a b c" ×3, "b c a" ×3... → 1 - 3/8
    assert repeated_rate("a b c a b c a b c a") == pytest.approx(1 - 3 / 8)
    assert echo_rate("I love the sea so much", ["I love the sea too"]) == pytest.approx(1 / 3)
    assert echo_rate("short", ["short"]) == 0.0


def test_sentences_and_summary() -> None:
    assert sentence_count("Hi. How are you? Fine!") == 3
    assert sentence_count("No final stop") == 1
    assert sentence_count("") == 0
    scores = [
        score_reply(
            chat="c", turn=0, user="Hi", reply="Hello Priya. I'm Sol.", user_name="Priya",
            expect=(), earlier=[], ttft_ms=10.0,
        ),
        score_reply(
            chat="c", turn=1, user="Name?", reply="I'm Priya.", user_name="Priya",
            expect=("Priya",), earlier=["Hello Priya. I'm Sol."], ttft_ms=30.0,
        ),
        score_reply(
            chat="c", turn=2, user="Dog?", reply="No idea. A. B. C. D.", user_name="Priya",
            expect=("Biscuit",), earlier=[], ttft_ms=None,
        ),
    ]  # fmt: skip
    summary = summarize(scores)
    assert summary["questions"] == 2 and summary["recalled"] == 1
    assert summary["recall_rate"] == 0.5
    assert summary["confused"] == 1
    assert summary["over_four_sentences"] == 1
    assert summary["mean_words"] == 4.0  # (4 + 2 + 6) / 3
    assert summary["ttft_p50_ms"] == 30.0


def test_scripted_chats_ask_what_they_told() -> None:
    assert len(CHATS) >= 10
    for chat in CHATS:
        told = " ".join(t.user for t in chat.turns if not t.expect)
        questions = [t for t in chat.turns if t.expect]
        assert chat.user_name in told and len(questions) >= 2
        for turn in questions:  # every expected answer was said before it was asked
            assert any(recalled(told, [e]) for e in turn.expect), (chat.id, turn.user)
