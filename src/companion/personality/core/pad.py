"""PAD arithmetic: baseline from the Big Five, homeostasis, drift, emotion labels.

All functions are pure. Formulas and constants are documented in docs/PERSONALITY.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from companion.personality.core.presets import BigFive
from companion.types import PAD, clamp

__all__ = [
    "NEUTRAL_RADIUS",
    "apply_delta",
    "baseline_from_big_five",
    "decay_toward",
    "drift_baseline",
    "emotion_label",
    "mean_pad",
]

#: Below this distance from the origin the mood is called ``neutral`` (DECISIONS.md#mood-octants).
NEUTRAL_RADIUS = 0.15
#: Drift is skipped with fewer interactions than this in the window.
MIN_DRIFT_INTERACTIONS = 5

# Mehrabian's standard octants, keyed by the sign of (P, A, D).
_OCTANTS = {
    (True, True, True): "exuberant",
    (True, True, False): "dependent",
    (True, False, True): "relaxed",
    (True, False, False): "docile",
    (False, True, True): "hostile",
    (False, True, False): "anxious",
    (False, False, True): "disdainful",
    # Mehrabian calls this octant "bored"; reached through empathy it is sadness.
    (False, False, False): "sad",
}


def apply_delta(pad: PAD, delta: PAD) -> PAD:
    """``clamp(current + delta, -1, 1)`` on each axis."""
    return PAD(
        clamp(pad.pleasure + delta.pleasure),
        clamp(pad.arousal + delta.arousal),
        clamp(pad.dominance + delta.dominance),
    )


def baseline_from_big_five(traits: BigFive) -> PAD:
    """Mehrabian's (1996) temperament mapping, with emotional stability = 1 − neuroticism.

    Traits are rescaled from [0, 1] to [−1, 1] first (as in ALMA), so a perfectly
    average personality has the neutral baseline (0, 0, 0); results are clamped.
    """
    o, c, e, a = (
        2 * v - 1
        for v in (
            traits.openness,
            traits.conscientiousness,
            traits.extraversion,
            traits.agreeableness,
        )
    )
    s = 2 * (1 - traits.neuroticism) - 1
    return PAD(
        clamp(0.21 * e + 0.59 * a + 0.19 * s),
        clamp(0.15 * o + 0.30 * a - 0.57 * s),
        clamp(0.25 * o + 0.17 * c + 0.60 * e - 0.32 * a),
    )


def decay_toward(pad: PAD, target: PAD, *, minutes: float, half_life_minutes: float) -> PAD:
    """Homeostasis: the distance to ``target`` halves every ``half_life_minutes``.

    Why: DECISIONS.md#homeostasis.
    """
    if minutes <= 0:
        return pad.clamped()
    keep = math.pow(0.5, minutes / half_life_minutes)
    return PAD(
        clamp(target.pleasure + (pad.pleasure - target.pleasure) * keep),
        clamp(target.arousal + (pad.arousal - target.arousal) * keep),
        clamp(target.dominance + (pad.dominance - target.dominance) * keep),
    )


def mean_pad(points: Sequence[PAD]) -> PAD:
    """The per-axis mean of ``points`` (the origin when empty)."""
    if not points:
        return PAD()
    n = len(points)
    return PAD(
        sum(p.pleasure for p in points) / n,
        sum(p.arousal for p in points) / n,
        sum(p.dominance for p in points) / n,
    )


def drift_baseline(baseline: PAD, recent: Sequence[PAD], *, rate: float = 0.01) -> PAD | None:
    """``baseline + (mean(recent) − baseline) × rate``, or ``None`` under 5 points."""
    if len(recent) < MIN_DRIFT_INTERACTIONS:
        return None
    avg = mean_pad(recent)
    return PAD(
        clamp(baseline.pleasure + (avg.pleasure - baseline.pleasure) * rate),
        clamp(baseline.arousal + (avg.arousal - baseline.arousal) * rate),
        clamp(baseline.dominance + (avg.dominance - baseline.dominance) * rate),
    )


def emotion_label(pad: PAD) -> str:
    """Mehrabian's octant of ``pad``, or ``neutral`` within ``NEUTRAL_RADIUS`` of the origin."""
    radius = math.sqrt(pad.pleasure**2 + pad.arousal**2 + pad.dominance**2)
    if radius < NEUTRAL_RADIUS:
        return "neutral"
    return _OCTANTS[(pad.pleasure > 0, pad.arousal > 0, pad.dominance > 0)]
