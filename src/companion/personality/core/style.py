"""Style traits (from HER): the part of personality that evolves.

Warmth, curiosity, assertiveness, humor and emotional depth live on 0–100, bounded
to [20, 95]. A reflection proposes adjustments in [−5, +5] per trait (from engagement
signals, or the fast model's JSON) and applies ``clamp(old + adj × speed, 20, 95)``,
rounded to whole points. Empathy and safety awareness are immutable: they are not
traits here and nothing can adjust them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from companion.personality.core.sentiment import analyse

__all__ = [
    "DEFAULT_STYLE",
    "SPEED",
    "STYLE_TRAITS",
    "Exchange",
    "apply_adjustments",
    "engagement_adjustments",
]

STYLE_TRAITS = ("warmth", "curiosity", "assertiveness", "humor", "emotional_depth")
DEFAULT_STYLE: dict[str, int] = {
    "warmth": 75,
    "curiosity": 80,
    "assertiveness": 60,
    "humor": 70,
    "emotional_depth": 85,
}
LOW, HIGH = 20, 95
MAX_ADJUSTMENT = 5.0
#: HER gives medium = 0.5; slow and fast are ours (DECISIONS.md#style-speeds).
SPEED: dict[str, float] = {"slow": 0.25, "medium": 0.5, "fast": 1.0}
IMMUTABLE = ("empathy", "safety_awareness")
#: A reflection needs at least this many exchanges to judge engagement.
MIN_EXCHANGES = 3

_LAUGH = ("haha", "lol", "lmao", "😂", "🤣", "hehe", "funny")
_PUSHBACK = (
    "you're wrong",
    "that's wrong",
    "stop",
    "not what i asked",
    "too long",
    "just answer",
    "whatever",
)
_ADVICE = ("should i", "what do you think", "what would you do", "advice", "recommend")
_FEELING = ("feel", "felt", "sad", "happy", "scared", "lonely", "love", "miss", "worried")


@dataclass(frozen=True, slots=True)
class Exchange:
    """One user message, the companion's reply before it, and how fast the user answered."""

    user_text: str
    previous_reply: str = ""
    latency_seconds: float | None = None


def _share(exchanges: Sequence[Exchange], words: tuple[str, ...]) -> float:
    return sum(any(w in e.user_text.lower() for w in words) for e in exchanges) / len(exchanges)


def engagement_adjustments(exchanges: Sequence[Exchange]) -> tuple[dict[str, float], str]:
    """Rule-path adjustments in [−5, 5] and the reasoning, from engagement signals."""
    if len(exchanges) < MIN_EXCHANGES:
        return {}, "not enough exchanges"
    ratio = sum(
        len(e.user_text) / max(1, len(e.previous_reply) or len(e.user_text)) for e in exchanges
    ) / len(exchanges)
    engaged = min(1.0, ratio)  # the user writes about as much as we do
    quick = [e.latency_seconds for e in exchanges if e.latency_seconds is not None]
    prompt_replies = sum(1 for s in quick if s < 600) / len(quick) if quick else 0.5
    valence = sum(analyse(e.user_text).valence for e in exchanges) / len(exchanges)
    laughs, pushback = _share(exchanges, _LAUGH), _share(exchanges, _PUSHBACK)
    advice, feeling = _share(exchanges, _ADVICE), _share(exchanges, _FEELING)
    questions = _share(exchanges, ("?",))
    raw = {
        "warmth": 4 * feeling + 3 * valence - 4 * pushback,
        "curiosity": 6 * (engaged - 0.5) + 2 * (prompt_replies - 0.5) - 3 * pushback,
        "assertiveness": 6 * advice + 2 * questions - 6 * pushback,
        "humor": 8 * laughs - 2 * max(0.0, -valence) - 2 * pushback,
        "emotional_depth": 5 * feeling + 3 * (engaged - 0.5) - 3 * max(0.0, 0.3 - feeling),
    }
    adjustments = {t: max(-MAX_ADJUSTMENT, min(MAX_ADJUSTMENT, v)) for t, v in raw.items()}
    reasoning = (
        f"engagement {engaged:.2f}, valence {valence:+.2f}, laughter {laughs:.2f}, "
        f"pushback {pushback:.2f}, advice-seeking {advice:.2f}, feelings {feeling:.2f}"
    )
    return adjustments, reasoning


def apply_adjustments(
    traits: Mapping[str, int], adjustments: Mapping[str, float], *, speed: str
) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """New traits and the diff ``{trait: {"from": old, "to": new}}`` of changed ones.

    Unknown keys (including the immutable empathy and safety awareness) are ignored.
    """
    factor = SPEED[speed]
    new = {t: int(traits[t]) for t in STYLE_TRAITS}
    diff: dict[str, dict[str, int]] = {}
    for trait in STYLE_TRAITS:
        if trait not in adjustments:
            continue
        adj = max(-MAX_ADJUSTMENT, min(MAX_ADJUSTMENT, float(adjustments[trait])))
        value = math.floor(max(LOW, min(HIGH, new[trait] + adj * factor)) + 0.5)
        if value != new[trait]:
            diff[trait] = {"from": new[trait], "to": value}
            new[trait] = value
    return new, diff
