"""How long a chat reply may run: at most a few sentences unless the person asked for
more. Pure.

A small model ignores "reply in one to four sentences" about half the time (see the
conversation bench in docs/BENCHMARKS.md), so the compact profile also enforces it:
``sentence_cut(text)`` is where the reply should end, or ``None`` while it is short
enough; ``asks_for_more(message)`` spots requests that deserve a longer answer (a
story, an explanation, a list, steps).
"""

from __future__ import annotations

import re

__all__ = ["CHAT_SENTENCES", "asks_for_more", "sentence_cut"]

#: Sentences in a chat reply when nothing longer was asked for.
CHAT_SENTENCES = 4

# A sentence ends at ., ! or ? (runs like "?!" or "..." count once) followed by the end
# or by a space and something that is not a lower-case letter: a decimal point has no
# space after it, and "e.g. a coffee" goes on in lower case.
_END = re.compile(r"[.!?]+(?=\s+[^a-z\s]|\s*$)")
_LONGER = re.compile(
    r"\b(story|stories|explain|explanation|describe|detail(?:s|ed)?|in depth|step[- ]by[- ]step|"
    r"steps|list|recipe|instructions|tell me more|longer|essay|poem|summar(?:y|ise|ize))\b",
    re.IGNORECASE,
)


def asks_for_more(message: str) -> bool:
    """Whether the person's message asks for a longer answer than a chat reply."""
    return _LONGER.search(message) is not None


def sentence_cut(text: str, *, limit: int = CHAT_SENTENCES) -> int | None:
    """The offset where ``text`` should end after ``limit`` sentences, or ``None``.

    ``None`` also while the ``limit``-th sentence is the last thing written: the cut is
    only decided once more text follows it.
    """
    ends = 0
    for match in _END.finditer(text):
        ends += 1
        if ends == limit and text[match.end() :].strip():
            return match.end()
    return None
