"""Appraisal of a user message into a PAD delta.

Order: a high-severity threat applies the Discord design's penalty; then empathy: when the user
tells of a loss (grief, a break-up, loneliness) or a worry (illness, job loss, fear,
anger), the companion's mood is pulled toward what a friend would feel, however
cheerful it was (``empathy_delta``); otherwise that design's OCC rules are checked
first-match-wins with their exact deltas; a message no rule moves (or the achievement
rule with negative sentiment) takes the sentiment path. The delta is then shaped by
the Big Five (``shape``): neutral traits change nothing.
"""

from __future__ import annotations

import re

from companion.personality.core.presets import BigFive
from companion.personality.core.sentiment import Sentiment, analyse
from companion.types import PAD

__all__ = [
    "EMPATHY_TARGETS",
    "THREAT_DELTA",
    "appraise_delta",
    "empathy_delta",
    "occ_delta",
    "sentiment_delta",
    "shape",
]

THREAT_DELTA = PAD(-0.3, 0.2, -0.2)

_ACHIEVEMENT = ("succeeded", "finished", "completed", "accomplished", "achieved")
_FAILURE = ("failed", "couldn't", "didn't work", "gave up", "impossible")
_COMPLIMENT = ("you're great", "thank you", "you helped", "amazing", "wonderful")
_SURPRISE = ("surprise", "unexpected", "suddenly", "out of nowhere", "shocked")
_SOCIAL = ("friend", "family", "together", "met someone", "date", "party")
#: Sentiment below this magnitude is treated as no sentiment at all.
_DEADBAND = 0.05
#: Where a friend's mood heads on hearing of a loss (sad: −P −A −D) or a worry
#: (concerned: −P +A −D), at full strength.
EMPATHY_TARGETS: dict[str, PAD] = {
    "loss": PAD(-0.6, -0.3, -0.3),
    "worry": PAD(-0.5, 0.35, -0.3),
}
#: Empathy takes over from the OCC rules at this negative valence or beyond.
_EMPATHY_FLOOR = 0.25


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text) for w in words)


def empathy_delta(sentiment: Sentiment, current: PAD | None = None) -> PAD | None:
    """The pull toward a friend's feeling for a loss or worry, or ``None``.

    Strength is 0.3 plus the valence's magnitude (at most 1); the weight
    ``0.5 + 0.4 × strength`` is the share of the way travelled. Each axis moves by the
    weighted target or, when it is further, by the pull from ``current`` toward the
    scaled target, so a cheerful, confident companion is not still cheerful and
    confident after "my mother died".
    """
    target = EMPATHY_TARGETS.get(sentiment.kind or "")
    if target is None or sentiment.valence > -_EMPATHY_FLOOR:
        return None
    # A named loss or worry already matters: strength starts at 0.3 above the valence.
    strength = min(1.0, 0.3 - sentiment.valence)
    weight = 0.5 + 0.4 * strength
    here = current if current is not None else PAD()
    moves = []
    axes = ("pleasure", "arousal", "dominance")
    for goal, now in ((getattr(target, a), getattr(here, a)) for a in axes):
        step, pull = goal * weight, (goal * strength - now) * weight
        moves.append(min(step, pull) if goal < 0 else max(step, pull))
    return PAD(*moves)


def occ_delta(text: str, sentiment: Sentiment) -> tuple[str | None, PAD]:
    """The Discord design's five rules: the matched rule's name and its exact delta."""
    t = text.lower()
    positive = sentiment.valence > _DEADBAND
    if _has(t, _ACHIEVEMENT):
        return "goal_achievement", PAD(0.2, 0.1, 0.05) if positive else PAD()
    if _has(t, _FAILURE):
        return "goal_failure", PAD(-0.15, 0.05, -0.1)
    if _has(t, _COMPLIMENT):
        return "compliment", PAD(0.3, 0.05, 0.1)
    if _has(t, _SURPRISE):
        return "surprise", PAD(0.1 if positive else -0.1, 0.2, 0.0)
    if _has(t, _SOCIAL):
        return "social_connection", PAD(0.1, 0.05, 0.02)
    return None, PAD()


def sentiment_delta(sentiment: Sentiment) -> PAD:
    """The general path: valence moves pleasure, intensity arousal, sign dominance."""
    v = sentiment.valence
    if abs(v) < _DEADBAND:
        return PAD()
    if v > 0:
        # Contentment calms; good news and excitement energise.
        arousal = -0.08 * v if sentiment.arousal_hint < 0 else 0.08 * v
        return PAD(0.25 * v, arousal, 0.05 * v)
    # Sad news calms and saddens; angry or frightening news agitates.
    arousal = {-1: -0.1, 0: 0.04, 1: 0.12}[sentiment.arousal_hint] * abs(v)
    return PAD(0.25 * v, arousal, 0.06 * v)


def _gain(trait: float, weight: float) -> float:
    # 1 at trait 0.5, from 1 - weight to 1 + weight across [0, 1].
    return 1.0 + weight * (2.0 * trait - 1.0)


def shape(delta: PAD, traits: BigFive) -> PAD:
    """Personality-shaped delta: neuroticism amplifies bad news, extraversion good news
    and arousal, agreeableness softens the dominance hit of conflict."""
    p = delta.pleasure * (
        _gain(traits.neuroticism, 0.5) if delta.pleasure < 0 else _gain(traits.extraversion, 0.25)
    )
    a = delta.arousal * _gain(traits.extraversion, 0.3)
    d = delta.dominance * (
        _gain(traits.neuroticism, 0.3) if delta.dominance < 0 else _gain(traits.extraversion, 0.2)
    )
    return PAD(p, a, d)


def appraise_delta(
    text: str, traits: BigFive, *, threat: bool = False, current: PAD | None = None
) -> tuple[str, PAD]:
    """The rule that fired (``threat``, ``empathy``, an OCC rule, ``sentiment`` or
    ``none``) and the delta; ``current`` is the mood before the message, if known."""
    if threat:
        return "threat", THREAT_DELTA
    sentiment = analyse(text)
    empathic = empathy_delta(sentiment, current)
    if empathic is not None:
        return "empathy", shape(empathic, traits)
    rule, delta = occ_delta(text, sentiment)
    if rule is None or delta == PAD():
        delta = sentiment_delta(sentiment)
        rule = "sentiment" if delta != PAD() else "none"
    return rule, shape(delta, traits)
