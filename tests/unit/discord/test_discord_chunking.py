"""Splitting replies at Discord's 2000-character limit."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from companion.channels.discord import DISCORD_LIMIT, split_message


def test_short_text_is_one_message_and_blank_is_none() -> None:
    assert split_message("  hello there  ") == ["hello there"]
    assert split_message("   \n ") == []


def test_prefers_sentence_boundaries_over_words() -> None:
    sentence = "This is a sentence that goes on for a while. "
    text = sentence * 60  # about 2700 characters, no newlines
    chunks = split_message(text)
    assert len(chunks) == 2
    assert all(len(c) <= DISCORD_LIMIT for c in chunks)
    assert chunks[0].endswith("a while.")
    assert chunks[1].startswith("This is")


def test_prefers_line_breaks_over_sentences() -> None:
    text = "\n".join(f"line {i}. with a sentence. and another." for i in range(120))
    chunks = split_message(text, limit=500)
    assert all(len(c) <= 500 for c in chunks)
    assert all(c.startswith("line ") and c.endswith("another.") for c in chunks)


def test_a_giant_word_is_cut_hard() -> None:
    chunks = split_message("x" * 4500)
    assert [len(c) for c in chunks] == [1996, 1996, 508]


def test_code_blocks_are_closed_and_reopened() -> None:
    code = "\n".join(f"print({i})" for i in range(400))
    text = f"Here you go:\n```python\n{code}\n```\nDone."
    chunks = split_message(text)
    assert len(chunks) > 1
    for chunk in chunks:
        assert len(chunk) <= DISCORD_LIMIT
        assert chunk.count("```") % 2 == 0, chunk[-40:]
    assert chunks[1].startswith("```python\n")
    assert "".join(chunks).count("print(") == 400


words = st.text(alphabet="abcdefghij.!?", min_size=1, max_size=30)
separators = st.sampled_from([" ", " ", " ", "\n", "\n\n", ". "])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(words, separators), min_size=1, max_size=600), st.integers(60, 2000))
def test_every_word_survives_in_order_within_the_limit(
    parts: list[tuple[str, str]], limit: int
) -> None:
    text = "".join(word + sep for word, sep in parts)
    chunks = split_message(text, limit=limit)
    assert all(0 < len(c) <= limit for c in chunks)
    assert " ".join(chunks).split() == text.split()
