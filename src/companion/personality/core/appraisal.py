"""Appraisal of a user message into a PAD delta (PER-08, PER-09, DEF-11).

Order: a high-severity threat applies seed 001's penalty; otherwise seed 001's OCC
rules are checked first-match-wins with their exact deltas; a message no rule moves
(or the achievement rule with negative sentiment, PER-08f) takes the sentiment path.
The delta is then shaped by the Big Five (``shape``): neutral traits change nothing.
"""

from __future__ import annotations

from companion.personality.core.presets import BigFive
from companion.personality.core.sentiment import Sentiment, analyse
from companion.types import PAD

__all__ = ["THREAT_DELTA", "appraise_delta", "occ_delta", "sentiment_delta", "shape"]

THREAT_DELTA = PAD(-0.3, 0.2, -0.2)

_ACHIEVEMENT = ("succeeded", "finished", "completed", "accomplished", "achieved")
_FAILURE = ("failed", "couldn't", "didn't work", "gave up", "impossible")
_COMPLIMENT = ("you're great", "thank you", "you helped", "amazing", "wonderful")
_SURPRISE = ("surprise", "unexpected", "suddenly", "out of nowhere", "shocked")
_SOCIAL = ("friend", "family", "together", "met someone", "date", "party")
#: Sentiment below this magnitude is treated as no sentiment at all.
_DEADBAND = 0.05


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(w in text for w in words)


def occ_delta(text: str, sentiment: Sentiment) -> tuple[str | None, PAD]:
    """Seed 001's five rules: the matched rule's name and its exact delta."""
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
        return PAD(0.25 * v, 0.08 * v, 0.05 * v)
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


def appraise_delta(text: str, traits: BigFive, *, threat: bool = False) -> tuple[str, PAD]:
    """The rule that fired (``threat``, an OCC rule, ``sentiment`` or ``none``) and the delta."""
    if threat:
        return "threat", THREAT_DELTA
    sentiment = analyse(text)
    rule, delta = occ_delta(text, sentiment)
    if rule is None or delta == PAD():
        delta = sentiment_delta(sentiment)
        rule = "sentiment" if delta != PAD() else "none"
    return rule, shape(delta, traits)
