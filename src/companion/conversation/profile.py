"""The prompt profile: the full persona layout, or a compact one for small models. Pure.

A 135M-parameter model cannot follow a 250-token persona full of trait numbers: it
copies names from the conversation into its own mouth ("I'm Maya") and rambles. The
compact layout states the companion's own name first and last, keeps the style as a
short clause (the mood is one line beside the new message: ``compact_mood``), gives
the card (if any) a small share, and asks for one to four sentences.
``PROMPT_PROFILE`` chooses: ``auto`` (compact when the chat model is not capable,
i.e. the embedded one), ``compact`` or ``full``.
"""

from __future__ import annotations

from typing import Literal

from companion.conversation.budget import truncate_to_tokens
from companion.conversation.ports import CompanionState

__all__ = [
    "COMPACT_MEMORIES",
    "COMPACT_MEMORY_TOKENS",
    "COMPACT_REPLY_TOKENS",
    "PromptProfile",
    "compact_mood",
    "compact_persona",
    "use_compact",
]

PromptProfile = Literal["auto", "compact", "full"]

#: One to four sentences of chat fit well inside this; a longer answer is a ramble.
COMPACT_REPLY_TOKENS = 160
#: Memories in the small model's turn context (the full layout takes ``memory_k``, 6):
#: the best ones the recent turns do not already say. Each new one costs ~20-25 prompt
#: tokens read at the turn (after the cached persona and history), ~70-120 ms of the
#: first token on two cores; one the previous turn showed too was read ahead.
COMPACT_MEMORIES = 3
#: A memory line in the small model's turn context is cut to about this many tokens
#: (estimated; ~115 characters): a long stored sentence costs every turn it is shown.
COMPACT_MEMORY_TOKENS = 40
#: The share of an imported card's text in the compact layout.
_CARD_TOKENS = 260

_STYLE = (
    ("warmth", "warm and caring", "cool and matter-of-fact"),
    ("curiosity", "curious about them", "not nosy"),
    ("humor", "playful", "serious"),
)


def use_compact(profile: PromptProfile, *, capable: bool) -> bool:
    """Whether this turn uses the compact layout (``auto``: when the model is small)."""
    if profile == "auto":
        return not capable
    return profile == "compact"


def _style(style: dict[str, int]) -> str:
    words = []
    for trait, high, low in _STYLE:
        value = style.get(trait, 50)
        if value >= 70:
            words.append(high)
        elif value <= 35:
            words.append(low)
    return ", ".join(words) or "friendly"


def compact_persona(state: CompanionState) -> str:
    """The persona for a small model, with an imported card's text (if any) trimmed.

    The card part of ``state.prompt_block`` is what follows its first blank line
    (the personality service appends it there, fenced as data).
    """
    name = state.name or "Companion"
    lines = [
        f"You are {name}, a {_style(state.style)} friend chatting with a person.",
    ]
    if state.quirks:
        lines.append(
            "Your habits: " + ", ".join(q.replace("_", " ") for q in state.quirks[:3]) + "."
        )
    _, _, card = state.prompt_block.partition("\n\n")
    if card.strip():
        lines.append(truncate_to_tokens(card.strip(), _CARD_TOKENS))
    lines.append(
        f"Your name is {name}. The person has their own name: never use it as yours. "
        "When they ask about themselves, answer with what they told you. "
        "Reply in one to four short sentences."
    )
    return "\n".join(lines)


def compact_mood(state: CompanionState) -> str:
    """The mood for a small model: one plain line, no numbers (it changes every turn,
    so it goes beside the new message, after the cached persona and history)."""
    return f"You feel {state.emotion} right now."
