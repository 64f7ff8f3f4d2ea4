"""Token budgeting for a small context window (pure: no I/O, no tokenizer download).

The local model has a 2048-token window, so the prompt is assembled against a budget.
Counting uses a conservative character estimate: it never needs a tokenizer, and it
errs on the side of leaving room for the reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "HISTORY_BLOCK",
    "TokenBudget",
    "estimate_tokens",
    "fit_in_blocks",
    "fit_newest",
    "truncate_to_tokens",
]

#: English averages ~4 characters per token; 3.2 over-counts on purpose (names,
#: numbers and non-English text tokenise worse), so an estimated fit is a real fit.
_CHARS_PER_TOKEN = 3.2
#: Chat templates wrap each message in role markers.
_PER_MESSAGE = 4


def estimate_tokens(text: str) -> int:
    """An upper-leaning estimate of the tokens ``text`` needs inside a chat message."""
    return int(len(text) / _CHARS_PER_TOKEN) + _PER_MESSAGE


def truncate_to_tokens(text: str, tokens: int) -> str:
    """``text`` cut (at a word boundary where possible) to about ``tokens`` tokens."""
    limit = max(0, int((tokens - _PER_MESSAGE) * _CHARS_PER_TOKEN))
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.8 else cut).rstrip() + "…"


def fit_newest(items: Sequence[str], budget: int) -> int:
    """How many of the newest ``items`` (the end of the list) fit in ``budget`` tokens."""
    used, count = 0, 0
    for item in reversed(items):
        cost = estimate_tokens(item)
        if used + cost > budget:
            break
        used += cost
        count += 1
    return count


#: Lines (user and assistant) between the history's cut points when the caller names no
#: other: the default short-term window's block (ten exchanges kept, five dropped at once).
HISTORY_BLOCK = 10


def fit_in_blocks(items: Sequence[str], budget: int, block: int = HISTORY_BLOCK) -> int:
    """How many of the newest ``items`` to keep within ``budget``: all when they fit,
    else those from the first cut point after which they fit. The cut points are every
    ``block`` lines from the list's start (an even count: whole exchanges); when not even
    the lines after the last cut point fit, the newest whole exchanges that fit.

    Dropping one line per turn would change the prompt right after the persona at every
    turn near the budget; a cut point fixed in the list keeps the same first line while
    the list grows, for about ``block / 2`` turns. The history window drops its oldest
    lines in blocks too (``ShortTermBuffer``): with the same ``block`` its start is always
    one of these cut points, so a cut stays where it is when the window drops the lines
    before it, and the next change of the first line is always at the next cut point
    (``steady.kept_past_next_cut``), known turns ahead.
    """
    count = len(items)
    fit = fit_newest(items, budget)
    if fit == count:
        return count
    step = max(2, block // 2 * 2)
    start = -(-(count - fit) // step) * step
    if start < count:
        return count - start
    # Not even the newest cut point's lines fit: whole exchanges, newest first.
    over = count - fit
    return max(0, count - over - over % 2)


@dataclass(frozen=True)
class TokenBudget:
    """How a context window is shared between the parts of a prompt.

    Args:
        context: The model's window in tokens.
        reply: Tokens reserved for the answer.
        persona_max: Most the persona block may take (it is trimmed beyond that).
        memories_max: Most the retrieved memories may take together.
    """

    context: int = 2048
    reply: int = 320
    persona_max: int = 700
    memories_max: int = 360

    @property
    def prompt(self) -> int:
        """Tokens available for the whole prompt."""
        return self.context - self.reply

    @classmethod
    def for_context(cls, context: int) -> TokenBudget:
        """A budget scaled to ``context`` (2048 gives the defaults above)."""
        scale = context / 2048
        return cls(
            context=context,
            reply=min(1024, int(320 * scale)),
            persona_max=int(700 * scale),
            memories_max=int(360 * scale),
        )
