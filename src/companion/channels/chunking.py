"""Split a reply into messages a chat platform accepts (Discord 2000, Telegram 4096).

Pure: no SDK, no I/O. A reply longer than the platform's limit is cut
at the best boundary that still leaves a reasonably full message — paragraph, then
line, then sentence, then word, then (only for a single enormous word) anywhere. A
code block cut in the middle is closed at the end of one message and reopened, with
its language, at the start of the next, so each message renders on its own.
"""

from __future__ import annotations

import re

__all__ = ["split_message"]

_FENCE = "```"
_CLOSE = "\n```"
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_FENCE_LINE = re.compile(r"```([\w+-]{0,20})")


def split_message(text: str, *, limit: int) -> list[str]:
    """Split ``text`` into messages of at most ``limit`` characters.

    Args:
        text: The reply; surrounding whitespace is dropped.
        limit: The maximum message length (Discord's is 2000, Telegram's 4096).

    Returns:
        The messages in order; empty for blank text.
    """
    if limit < 40:
        raise ValueError("limit must be at least 40 characters")
    rest = text.strip()
    chunks: list[str] = []
    while rest:
        if len(rest) <= limit:
            chunks.append(rest)
            break
        # Room for closing a code block that the cut leaves open.
        end, start = _cut(rest, limit - len(_CLOSE))
        head, rest = rest[:end].rstrip(), rest[start:]
        language = _open_fence_language(head)
        if language is not None:
            head += _CLOSE
            rest = f"{_FENCE}{language}\n{rest}"
        if head.strip():
            chunks.append(head)
    return chunks


def _cut(text: str, window: int) -> tuple[int, int]:
    """Where the head ends and the rest starts, preferring the coarsest boundary.

    A boundary is only taken if it keeps at least a quarter of the window, so a
    paragraph break near the start does not produce a tiny message.
    """
    floor = window // 4
    part = text[: window + 1]
    for separator in ("\n\n", "\n"):
        index = part.rfind(separator, floor, window + 1)
        if index >= floor:
            return index, index + len(separator)
    sentence_ends = [m for m in _SENTENCE_END.finditer(part) if floor <= m.start() <= window]
    if sentence_ends:
        last = sentence_ends[-1]
        return last.start(), last.end()
    index = part.rfind(" ", floor, window + 1)
    if index >= floor:
        return index, index + 1
    return window, window


def _open_fence_language(chunk: str) -> str | None:
    """The language of a code block left open at the end of ``chunk`` ("" if none given)."""
    fences = list(_FENCE_LINE.finditer(chunk))
    if len(fences) % 2 == 0:
        return None
    return fences[-1].group(1)
