"""Agreement of the appraisal with hand-labelled PAD directions (``bench personality``).

Each labelled message says which way a friend's pleasure, arousal and dominance should
move on hearing it (−1, 0, +1). The appraisal is run from a neutral mood with neutral
traits, and each axis of its delta is read as a direction with a small dead band.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from companion.personality.core.appraisal import appraise_delta
from companion.personality.core.presets import BigFive
from companion.types import PAD

__all__ = ["AXES", "Agreement", "Labelled", "direction", "load_labelled", "score"]

AXES = ("pleasure", "arousal", "dominance")
#: A delta smaller than this on an axis counts as "no movement".
DEAD_BAND = 0.01
_NEUTRAL = BigFive(0.5, 0.5, 0.5, 0.5, 0.5)


@dataclass(frozen=True, slots=True)
class Labelled:
    """One message with its split, category, language and expected directions."""

    text: str
    split: str
    category: str
    lang: str
    expected: tuple[int, int, int]


@dataclass(slots=True)
class Agreement:
    """Per-axis agreement counts and the messages that missed."""

    total: int = 0
    hits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AXES, 0))
    misses: list[tuple[Labelled, tuple[int, int, int]]] = field(default_factory=list)

    def rate(self, axis: str) -> float:
        """The share of messages whose ``axis`` moved the expected way."""
        return self.hits[axis] / self.total if self.total else 0.0


def direction(value: float) -> int:
    """−1, 0 or +1 with ``DEAD_BAND``."""
    if value > DEAD_BAND:
        return 1
    if value < -DEAD_BAND:
        return -1
    return 0


def load_labelled(path: Path) -> list[Labelled]:
    """Read the JSON-lines labelled set."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        rows.append(
            Labelled(
                text=d["text"],
                split=d["split"],
                category=d["category"],
                lang=d["lang"],
                expected=(int(d["pleasure"]), int(d["arousal"]), int(d["dominance"])),
            )
        )
    return rows


def score(rows: Iterable[Labelled]) -> Agreement:
    """Appraise every message from a neutral mood and count per-axis agreement."""
    result = Agreement()
    for row in rows:
        _, delta = appraise_delta(row.text, _NEUTRAL, current=PAD())
        got = (direction(delta.pleasure), direction(delta.arousal), direction(delta.dominance))
        result.total += 1
        for axis, want, have in zip(AXES, row.expected, got, strict=True):
            result.hits[axis] += want == have
        if got != row.expected:
            result.misses.append((row, got))
    return result
