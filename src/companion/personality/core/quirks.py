"""Quirks: stylometric detectors over the companion's replies, and lifecycle "B".

Lifecycle B (from the Discord design): a pattern seen in ≥ 3 replies with confidence
> 0.7 becomes an active quirk at strength 0.1; an active quirk observed within the last
day gains 0.05 (max 1); one not observed for ≥ 7 days loses 0.1 and is deactivated
below 0.05.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

__all__ = [
    "Pattern",
    "QuirkView",
    "detect_patterns",
    "evolve",
    "reply_traits",
]

NEW_STRENGTH = 0.1
REINFORCE = 0.05
DECAY = 0.1
DEACTIVATE_BELOW = 0.05
MIN_OCCURRENCES = 3
MIN_CONFIDENCE = 0.7
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
_WORD = re.compile(r"[a-z']+")


@dataclass(frozen=True, slots=True)
class Pattern:
    """A recurring habit found in recent replies."""

    name: str
    category: str
    description: str
    occurrences: int
    confidence: float
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QuirkView:
    """The lifecycle-relevant part of a stored quirk."""

    name: str
    strength: float
    is_active: bool
    last_observed: datetime | None


# name → (category, description, predicate over one reply)
_DETECTORS: dict[str, tuple[str, str, Callable[[str], bool]]] = {
    "asks_follow_up_questions": (
        "speech_pattern",
        "often ends with a question back",
        lambda r: "?" in r,
    ),
    "uses_emoji": (
        "speech_pattern",
        "sprinkles emoji into replies",
        lambda r: bool(_EMOJI.search(r)),
    ),
    "exclaims_often": (
        "speech_pattern",
        "speaks with exclamation marks",
        lambda r: r.count("!") >= 2,
    ),
    "long_winded": ("behavior", "tends to give long, detailed replies", lambda r: len(r) > 600),
    "brief_replies": ("behavior", "keeps replies short and to the point", lambda r: len(r) < 120),
}


def _opener(reply: str) -> str | None:
    words = _WORD.findall(reply.lower())
    return " ".join(words[:3]) if len(words) >= 3 else None


def _phrase_name(opener: str) -> str:
    return f"says '{opener[:60]}'"


def reply_traits(reply: str) -> set[str]:
    """The pattern names one reply exhibits (used to mark existing quirks observed)."""
    names = {name for name, (_, _, test) in _DETECTORS.items() if test(reply)}
    opener = _opener(reply)
    if opener is not None:
        names.add(_phrase_name(opener))
    return names


def _phrases(replies: Sequence[str]) -> list[Pattern]:
    # A two-to-three-word opener reused across replies is a catchphrase.
    openers = Counter(o for o in map(_opener, replies) if o is not None)
    out = []
    for phrase, count in openers.most_common(2):
        confidence = count / len(replies)
        out.append(
            Pattern(
                _phrase_name(phrase),
                "speech_pattern",
                f"often opens with '{phrase}'",
                count,
                confidence,
            )
        )
    return out


def detect_patterns(replies: Sequence[str]) -> list[Pattern]:
    """Stylometric patterns in ``replies``: confidence is the share of replies showing them."""
    if not replies:
        return []
    found = []
    for name, (category, description, test) in _DETECTORS.items():
        hits = [r for r in replies if test(r)]
        found.append(
            Pattern(
                name,
                category,
                description,
                len(hits),
                len(hits) / len(replies),
                tuple(h[:200] for h in hits[:5]),
            )
        )
    return found + _phrases(replies)


def evolve(
    quirks: Sequence[QuirkView], patterns: Sequence[Pattern], *, now: datetime
) -> tuple[list[QuirkView], list[Pattern]]:
    """One lifecycle step: the updated existing quirks and the patterns to create."""
    active = {q.name for q in quirks if q.is_active}
    created = [
        p
        for p in patterns
        if p.name not in active
        and p.occurrences >= MIN_OCCURRENCES
        and p.confidence > MIN_CONFIDENCE
    ]
    updated = []
    for q in quirks:
        if not q.is_active or q.last_observed is None:
            continue
        days = (now - q.last_observed).total_seconds() / 86_400
        if days <= 1:
            updated.append(replace(q, strength=min(1.0, round(q.strength + REINFORCE, 4))))
        elif days >= 7:
            strength = max(0.0, round(q.strength - DECAY, 4))
            updated.append(replace(q, strength=strength, is_active=strength >= DEACTIVATE_BELOW))
    return updated, created
