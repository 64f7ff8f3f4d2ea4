"""What ``make run`` prints: where to chat, and plainly when the built-in model answers."""

from __future__ import annotations

from companion.cli.welcome import instructions
from companion.llm import builtin_answers


class _Chain:
    def __init__(self, capable: bool) -> None:
        self.capable = capable


def test_small_model_note_names_the_one_line_fixes() -> None:
    text = instructions("http://127.0.0.1:8000", None, small_model=True)
    note = text.splitlines()[-1]
    assert "SmolLM2-135M" in note and "small" in note
    assert "CHAT_PROVIDERS=ollama" in note and "CHAT_PROVIDERS=lmstudio" in note
    assert "GROQ_API_KEY" in note
    assert "SmolLM2" not in instructions("http://127.0.0.1:8000", None, small_model=False)


def test_builtin_answers_when_no_capable_provider_comes_first() -> None:
    assert builtin_answers(None)
    assert builtin_answers(_Chain(capable=False))
    assert not builtin_answers(_Chain(capable=True))
