"""Wording shared between our own training text and the public development corpus (pure).

Our grammar and written sets must be in our own words: a sentence lifted from the dev
corpus would let cross-validation and the hold-out reward memorising it. A *run* is
``RUN_WORDS`` consecutive words (``\\w+``, lowercased); any run that one of our lines
has in common with any dev text is an overlap, reported with the file, the line and
the shared words. ``companion security train`` refuses to train while one exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["RUN_WORDS", "Overlap", "OwnLine", "find_overlaps", "runs"]

#: Words in a run that counts as shared wording.
RUN_WORDS = 6
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class OwnLine:
    """One line of text we wrote: the file it is in, its 1-based line number, the text."""

    file: str
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class Overlap:
    """A run of words one of our lines shares with a dev text."""

    file: str
    line: int
    words: str

    def __str__(self) -> str:
        return f'{self.file}:{self.line}: shares "{self.words}" with the dev corpus'


def runs(text: str, size: int = RUN_WORDS) -> list[str]:
    """Every run of ``size`` consecutive lowercased words of ``text``, in order."""
    words = [w.lower() for w in _WORD.findall(text)]
    return [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]


def find_overlaps(
    own: Iterable[OwnLine], dev_texts: Iterable[str], size: int = RUN_WORDS
) -> list[Overlap]:
    """Each of our lines' runs that also occurs in a dev text (one entry per line and run).

    Overlapping runs of one line are merged into one entry naming the longest shared
    stretch, so "a b c d e f g" shared whole is reported once, not twice.
    """
    seen = {run for text in dev_texts for run in runs(text, size)}
    found: list[Overlap] = []
    for line in own:
        words = [w.lower() for w in _WORD.findall(line.text)]
        start = 0
        while start + size <= len(words):
            if " ".join(words[start : start + size]) not in seen:
                start += 1
                continue
            end = start + size
            while end < len(words) and " ".join(words[end - size + 1 : end + 1]) in seen:
                end += 1
            found.append(Overlap(line.file, line.line, " ".join(words[start:end])))
            start = end
    return found
