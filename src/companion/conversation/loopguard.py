"""Cut a reply that starts looping (small models repeat a sentence until the token
limit). Pure: ``loop_cut(text)`` is where to cut, or ``None`` while the text is fine.

A loop is a run of ``min_words`` words that already occurred earlier, repeated at
least ``repeats`` times in all, or one sentence said twice. The reply keeps everything
before the second occurrence."""

from __future__ import annotations

import re

__all__ = ["STOP_SEQUENCES", "loop_cut", "trim_loop"]

#: Where a chat model starts writing the user's side or a template token.
STOP_SEQUENCES = ("\nUser:", "\nuser:", "\nUSER:", "<|im_end|>", "<|endoftext|>", "<|im_start|>")

_WORD = re.compile(r"\S+")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]+|[^.!?\n]+\n")


def _norm(word: str) -> str:
    return re.sub(r"\W+", "", word.lower())


def loop_cut(text: str, *, min_words: int = 6, repeats: int = 3) -> int | None:
    """The character offset where the loop starts repeating, or ``None``."""
    # A whole sentence (of at least four words) said again.
    seen: set[str] = set()
    for match in _SENTENCE.finditer(text):
        key = " ".join(_norm(w) for w in match.group().split())
        if len(key.split()) >= 4 and key in seen:
            return match.start()
        seen.add(key)
    # A run of words repeated ``repeats`` times (sentence boundaries ignored).
    words = [(m.start(), _norm(m.group())) for m in _WORD.finditer(text)]
    first: dict[tuple[str, ...], int] = {}
    counts: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - min_words + 1):
        gram = tuple(w for _, w in words[i : i + min_words])
        counts[gram] = counts.get(gram, 0) + 1
        if gram not in first:
            first[gram] = i
        elif counts[gram] >= repeats:
            # Cut at the second occurrence: find it after the first.
            for j in range(first[gram] + 1, i + 1):
                if tuple(w for _, w in words[j : j + min_words]) == gram:
                    return words[j][0]
    return None


def trim_loop(text: str) -> tuple[str, bool]:
    """``text`` cut before its loop (and trimmed), and whether it was cut."""
    cut = loop_cut(text)
    if cut is None:
        return text, False
    return text[:cut].rstrip(" ,;:-"), True
