"""Chat-length replies: at most four sentences unless the person asked for more."""

from __future__ import annotations

import pytest
from tests.fakes.conversation_ports import FakeChat

from companion.conversation.generation import Generation, generate
from companion.conversation.length import asks_for_more, sentence_cut
from companion.conversation.ports import CompanionState
from companion.llm.base import ChatMessage
from companion.types import PAD

LONG = (
    "Lisbon is lovely in spring! The trams are fun. Have you tried pastéis de nata? "
    "I'd love to hear about the bakery. What's the first thing you'll bake? "
    "Also the river is pretty at 6.30 in the evening."
)


def test_the_cut_falls_after_the_fourth_sentence() -> None:
    cut = sentence_cut(LONG)
    assert cut is not None
    assert LONG[:cut].endswith("hear about the bakery.")


@pytest.mark.parametrize(
    "text",
    [
        "Short and sweet.",
        "One. Two! Three? Four.",  # exactly four, nothing after: kept whole
        "It costs 2.50 euros, e.g. a coffee. That's cheap. Nice. Really",  # decimals, e.g.
    ],
)
def test_short_replies_are_not_cut(text: str) -> None:
    assert sentence_cut(text) is None


def test_what_asks_for_a_longer_answer() -> None:
    assert asks_for_more("Can you tell me a story about a dragon?")
    assert asks_for_more("Explain how tides work")
    assert asks_for_more("give me a list of things to pack")
    assert not asks_for_more("I just moved to Lisbon!")
    assert not asks_for_more("What's my dog called?")


async def _generate(max_sentences: int | None) -> tuple[list[str], Generation]:
    chat = FakeChat()
    chat.enqueue(LONG)
    state = CompanionState(
        user_id="u", name="Mira", preset="p", big_five={}, pad=PAD(), baseline=PAD(),
        emotion="neutral",
    )  # fmt: skip
    out = Generation()
    pieces = [
        piece
        async for piece in generate(
            chat,
            [ChatMessage("user", "hi")],
            state=state,
            user_id="u",
            max_tokens=128,
            temperature=0.7,
            out=out,
            max_sentences=max_sentences,
        )
    ]
    return pieces, out


async def test_generate_stops_streaming_after_the_fourth_sentence() -> None:
    pieces, out = await _generate(4)
    assert out.length_cut
    assert out.reply.endswith("hear about the bakery.")
    assert "".join(pieces).strip() == out.reply  # the client saw exactly what was stored
    assert out.completion is not None  # the call is still recorded whole (provider, tokens)
    pieces, out = await _generate(None)
    assert not out.length_cut and out.reply.endswith("in the evening.")
