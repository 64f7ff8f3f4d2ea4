"""Psychological needs: hourly growth, satisfaction by matching talk, mood nudge.

Growth is ``min(1, level + hours × rate)``. Which turns satisfy which need
is our mapping below (DECISIONS.md#needs-mapping); a matching turn lowers the need by its
``satisfaction_rate`` (0.1). Needs above 0.7 reach the prompt; above the
trigger threshold 0.8 they are urgent and pull the mood target down (``mood_nudge``).
"""

from __future__ import annotations

from collections.abc import Mapping

from companion.types import PAD

__all__ = [
    "NEED_RATES",
    "PROMPT_THRESHOLD",
    "URGENT_THRESHOLD",
    "grow",
    "mood_nudge",
    "satisfied_by",
    "urgent",
]

#: Growth per hour (the Discord design's rates).
NEED_RATES: dict[str, float] = {
    "social": 0.03,
    "intellectual": 0.02,
    "creative": 0.015,
    "rest": 0.04,
    "validation": 0.025,
}
INITIAL_LEVEL = 0.5
SATISFACTION_RATE = 0.1
#: Per-turn relief. Social grows fastest (0.72 a day) and every turn is social, so it
#: takes the top of that design's range (0.3); the others the default 0.1.
SATISFACTION_RATES: dict[str, float] = {
    "social": 0.3,
    "intellectual": SATISFACTION_RATE,
    "creative": SATISFACTION_RATE,
    "rest": SATISFACTION_RATE,
    "validation": SATISFACTION_RATE,
}
#: A turn that leaves the companion this calm (arousal below) is restful.
CALM_AROUSAL = 0.1
URGENT_THRESHOLD = 0.8
PROMPT_THRESHOLD = 0.7
INFLUENCE_ON_MOOD = 0.1
#: The most all needs together can lower pleasure.
_MAX_NUDGE = 0.3

_INTELLECTUAL = (
    "why",
    "how does",
    "how do",
    "explain",
    "what do you think",
    "learn",
    "science",
    "history",
    "philosophy",
    "book",
    "idea",
    "theory",
    "question",
)
_CREATIVE = (
    "story",
    "poem",
    "imagine",
    "draw",
    "paint",
    "write",
    "music",
    "song",
    "create",
    "design",
    "invent",
    "what if",
    "brainstorm",
)
_VALIDATION = (
    "thank",
    "you're great",
    "you helped",
    "love talking",
    "you're the best",
    "appreciate",
    "good job",
    "well done",
    "amazing",
    "wonderful",
)
_REST = (
    "good night",
    "goodnight",
    "relax",
    "calm",
    "rest",
    "sleep",
    "chill",
    "take it easy",
    "nap",
    "breathe",
    "slow down",
    "quiet",
)


def grow(level: float, *, need: str, hours: float) -> float:
    """The level after ``hours`` without satisfaction (capped at 1)."""
    return min(1.0, level + max(0.0, hours) * NEED_RATES[need])


def satisfied_by(user_text: str, *, arousal_after: float = 1.0) -> set[str]:
    """The needs one user turn satisfies: every turn is social contact; the others by
    topic (questions and ideas → intellectual, making things → creative, thanks and
    praise → validation) and rest by winding-down words or a calm turn (the companion's
    arousal after it below ``CALM_AROUSAL``)."""
    t = user_text.lower()
    needs = {"social"}
    if "?" in t or any(w in t for w in _INTELLECTUAL) or len(t) > 280:
        needs.add("intellectual")
    if any(w in t for w in _CREATIVE):
        needs.add("creative")
    if any(w in t for w in _VALIDATION):
        needs.add("validation")
    if arousal_after < CALM_AROUSAL or any(w in t for w in _REST):
        needs.add("rest")
    return needs


def urgent(levels: Mapping[str, float], *, threshold: float = PROMPT_THRESHOLD) -> list[str]:
    """Needs above ``threshold``, most pressing first."""
    return sorted((n for n, v in levels.items() if v > threshold), key=lambda n: -levels[n])


def mood_nudge(levels: Mapping[str, float]) -> PAD:
    """How unmet needs shift the mood target: each need above 0.7 lowers pleasure by
    ``0.1 × (level − 0.7) / 0.3`` (so a need at 1.0 costs 0.1), dominance by half that."""
    pull = sum(
        INFLUENCE_ON_MOOD * (v - PROMPT_THRESHOLD) / (1.0 - PROMPT_THRESHOLD)
        for v in levels.values()
        if v > PROMPT_THRESHOLD
    )
    pull = min(pull, _MAX_NUDGE)
    return PAD(-pull, 0.0, -pull / 2)
