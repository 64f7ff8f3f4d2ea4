"""The loop guard: a reply that starts repeating is cut before the repetition."""

from __future__ import annotations

import pytest
from tests.fakes.conversation_ports import FakeChat

from companion.conversation.generation import Generation, generate
from companion.conversation.loopguard import STOP_SEQUENCES, loop_cut, trim_loop
from companion.conversation.ports import CompanionState
from companion.llm.base import ChatMessage
from companion.types import PAD

LOOP = (
    "That sounds lovely! I'm going to spend my days playing games. "
    "I'm going to spend my days playing games. I'm going to spend my days"
)


def test_repeated_sentence_is_cut() -> None:
    assert trim_loop(LOOP) == (
        "That sounds lovely! I'm going to spend my days playing games.",
        True,
    )


def test_repeated_word_run_is_cut_at_its_second_occurrence() -> None:
    text = "and then we went and then we went and then we went and then we went home"
    cut = loop_cut(text, min_words=4, repeats=3)
    assert cut is not None and text[:cut].strip() == "and then we went"


@pytest.mark.parametrize(
    "text",
    [
        "Hello! How are you today? I hope the move to Lisbon went well.",
        "Yes. Yes. Yes.",  # short sentences are not loops
        "I like tea. I like coffee. I like both on rainy days.",
    ],
)
def test_normal_replies_are_kept(text: str) -> None:
    assert trim_loop(text) == (text, False)


async def test_generate_cuts_a_looping_model_and_sends_stop_sequences() -> None:
    chat = FakeChat()
    chat.enqueue(LOOP)
    state = CompanionState(
        user_id="u",
        name="Mira",
        preset="p",
        big_five={},
        pad=PAD(),
        baseline=PAD(),
        emotion="neutral",
    )
    out = Generation()
    pieces = [
        p
        async for p in generate(
            chat,
            [ChatMessage("user", "hi")],
            state=state,
            user_id="u",
            max_tokens=64,
            temperature=0.7,
            out=out,
        )
    ]
    assert pieces
    assert out.loop_cut and out.reply.endswith("playing games.")
    assert out.reply.count("playing games") == 1
    assert tuple(chat.requests[-1].stop) == STOP_SEQUENCES
