"""Valence of a message: VADER plus a small life-event lexicon VADER lacks (DEF-11).

VADER scores "I got a new puppy today!" and "my mom passed away" as exactly neutral,
so phrases that carry news (pets, births, jobs, deaths, break-ups) add their own
valence. The analyzer is created once per process: loading its lexicon takes ~50 ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from companion.types import clamp

__all__ = ["Sentiment", "analyse"]

# Good and bad news with a valence in [-1, 1]; each matching phrase adds its value.
_EVENTS: dict[str, float] = {
    "puppy": 0.6,
    "kitten": 0.6,
    "new job": 0.6,
    "got the job": 0.7,
    "promoted": 0.6,
    "promotion": 0.5,
    "engaged": 0.6,
    "got married": 0.6,
    "wedding": 0.4,
    "baby": 0.4,
    "birthday": 0.3,
    "vacation": 0.4,
    "holiday": 0.3,
    "passed my": 0.6,
    "passed the": 0.5,
    "graduated": 0.6,
    "got a new": 0.3,
    "new house": 0.5,
    "raise": 0.3,
    "recovered": 0.4,
    "passed away": -0.8,
    "died": -0.8,
    "funeral": -0.7,
    "grief": -0.6,
    "grieving": -0.6,
    "lost my": -0.6,
    "broke up": -0.6,
    "breakup": -0.6,
    "divorce": -0.6,
    "fired": -0.6,
    "laid off": -0.6,
    "diagnosed": -0.5,
    "cancer": -0.6,
    "hospital": -0.4,
    "sick": -0.3,
    "miss her": -0.4,
    "miss him": -0.4,
    "lonely": -0.5,
    "alone": -0.3,
    "exhausted": -0.3,
}
# Negative words of low arousal (sadness, tiredness) versus high arousal (anger, fear).
_LOW_AROUSAL = (
    "sad",
    "miss",
    "passed away",
    "died",
    "grief",
    "grieving",
    "lonely",
    "tired",
    "exhausted",
    "empty",
    "depressed",
    "funeral",
    "cry",
    "crying",
)
_HIGH_AROUSAL = (
    "angry",
    "furious",
    "hate",
    "scared",
    "afraid",
    "terrified",
    "anxious",
    "worried",
    "panic",
    "stressed",
    "annoyed",
    "!",
)


@dataclass(frozen=True, slots=True)
class Sentiment:
    """``valence`` in [-1, 1] and an arousal hint in {-1, 0, 1}."""

    valence: float
    arousal_hint: int


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def analyse(text: str) -> Sentiment:
    """The valence of ``text`` and whether its negativity is calm (−1) or agitated (+1)."""
    lowered = text.lower()
    compound = float(_analyzer().polarity_scores(text)["compound"])
    events = sum(v for phrase, v in _EVENTS.items() if phrase in lowered)
    valence = clamp(compound + events)
    hint = 0
    if any(w in lowered for w in _LOW_AROUSAL):
        hint = -1
    elif any(w in lowered for w in _HIGH_AROUSAL):
        hint = 1
    return Sentiment(valence=valence, arousal_hint=hint)
