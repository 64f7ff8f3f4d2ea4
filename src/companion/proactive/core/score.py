"""The Discord design's proactive score, as numpy functions over batches of users.

Every function takes arrays (one element per user) and also works on plain floats,
so the per-user path and the 100k-user pass share one implementation. Choices where
the seeds disagree or are silent:

* need urgency: variant (a), the weighted average of the urgent needs' urgency
  by ``proactive_weight`` (the design's "precise" variant), because it stays in [0, 1] without a cap
  and does not depend on how many need types exist.
* timing: variant (b), timezone-aware, built from the user's *own* activity
  histogram (hour of day and weekday in their timezone, normalised so the busiest
  bin is 1), with the design's recency penalty. Fewer than ``MIN_TIMING_SAMPLES`` data
  points read as the 0.5 defaults.
* recent-contact penalty (DECISIONS.md#recent-contact): ``0.5 × (1 − h/24)`` for ``h``
  hours since the last proactive message (0 after a day or with none), so a second
  message on the same day needs a clearly higher score.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "MIN_TIMING_SAMPLES",
    "PATTERN_WEIGHTS",
    "SCORE_WEIGHTS",
    "TRAIT_WEIGHTS",
    "TRIGGERS",
    "combine",
    "engagement",
    "need_urgency",
    "pad_influence",
    "pattern_score",
    "personality_factor",
    "primary_trigger",
    "recent_contact_penalty",
    "time_gap_score",
    "timing_score",
]

Floats = NDArray[np.float64]

#: ``base = need·0.40 + timing·0.25 + pattern·0.35``.
SCORE_WEIGHTS = {"need": 0.40, "timing": 0.25, "pattern": 0.35}
#: ``0.4·response_rate + 0.3·engagement + 0.2·time_gap + 0.1·balance``.
PATTERN_WEIGHTS = {"response_rate": 0.4, "engagement": 0.3, "time_gap": 0.2, "balance": 0.1}
#: Big Five weights of the personality factor, order O, C, E, A, N.
TRAIT_WEIGHTS = {
    "openness": 0.2,
    "conscientiousness": -0.1,
    "extraversion": 0.3,
    "agreeableness": 0.1,
    "neuroticism": 0.15,
}
TRIGGERS = ("need_urgency", "timing_optimal", "interaction_pattern", "general")
MIN_TIMING_SAMPLES = 5


def _f(x: ArrayLike) -> Floats:
    return np.asarray(x, dtype=np.float64)


def need_urgency(levels: ArrayLike, thresholds: ArrayLike, weights: ArrayLike) -> Floats:
    """Weighted average urgency of the needs at or above their trigger threshold.

    Args:
        levels: ``(users, needs)`` current levels in [0, 1]; NaN where a need is absent.
        thresholds: trigger thresholds, same shape (default 0.8 in the table).
        weights: ``proactive_weight`` per need, same shape.

    Returns:
        ``(users,)`` urgency in [0, 1]; 0 for a user with no urgent need.
    """
    lv, th, w = _f(levels), _f(thresholds), _f(weights)
    urgent = np.nan_to_num(lv, nan=-1.0) >= th
    room = 1.0 - th
    with np.errstate(divide="ignore", invalid="ignore"):
        per_need = np.where(room > 0, (lv - th) / np.where(room > 0, room, 1.0), 1.0)
    per_need = np.where(urgent, np.clip(per_need, 0.0, 1.0), 0.0)
    wsum = np.where(urgent, w, 0.0).sum(axis=-1)
    total = (per_need * np.where(urgent, w, 0.0)).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(wsum > 0, total / np.where(wsum > 0, wsum, 1.0), 0.0)


def timing_score(
    hour_count: ArrayLike,
    hour_max: ArrayLike,
    day_count: ArrayLike,
    day_max: ArrayLike,
    *,
    samples: ArrayLike,
    hours_since_activity: ArrayLike,
) -> Floats:
    """``(hour·0.7 + weekday·0.3) × (1 − recency penalty)`` in the user's timezone.

    Args:
        hour_count: interactions in the current local hour-of-day bin (30 days).
        hour_max: the busiest hour bin's count.
        day_count: interactions on the current local weekday.
        day_max: the busiest weekday's count.
        samples: how many interactions the histogram holds.
        hours_since_activity: hours since the user was last active (NaN: never).
    """
    enough = _f(samples) >= MIN_TIMING_SAMPLES
    with np.errstate(divide="ignore", invalid="ignore"):
        hour = np.where(enough & (_f(hour_max) > 0), _f(hour_count) / _f(hour_max), 0.5)
        day = np.where(enough & (_f(day_max) > 0), _f(day_count) / _f(day_max), 0.5)
    base = hour * 0.7 + day * 0.3
    h = _f(hours_since_activity)
    penalty = np.where(
        h < 4,
        (4 - h) / 4 * 0.5,
        np.where(h > 72, np.minimum(0.8, (h - 72) / 168 * 0.5), 0.0),
    )
    penalty = np.where(np.isnan(h), 0.0, np.clip(penalty, 0.0, 1.0))
    return _f(np.clip(base * (1 - penalty), 0.0, 1.0))


def time_gap_score(hours_since_last: ArrayLike) -> Floats:
    """1 for 12–48 h, ``h/12`` below, rising to 1.2 a week later."""
    h = np.maximum(_f(hours_since_last), 0.0)
    above = np.minimum(1.2, 1.0 + ((h - 48) / 120) * 0.2)
    return np.where(h < 12, h / 12, np.where(h <= 48, 1.0, above))


def engagement(avg_conversation_length: ArrayLike) -> Floats:
    """``min(1, avg_length / 10)``: ten-message conversations are full engagement."""
    return np.minimum(1.0, np.maximum(_f(avg_conversation_length), 0.0) / 10)


def pattern_score(
    response_rate: ArrayLike,
    avg_conversation_length: ArrayLike,
    hours_since_last: ArrayLike,
    *,
    initiation_ratio: ArrayLike,
    has_history: ArrayLike,
) -> Floats:
    """``0.4·response + 0.3·engagement + 0.2·time_gap + 0.1·(1.5 − initiation)``.

    Users without history in the last 7 days score 0.5 (the design's "new users" rule).
    """
    value = (
        _f(response_rate) * PATTERN_WEIGHTS["response_rate"]
        + engagement(avg_conversation_length) * PATTERN_WEIGHTS["engagement"]
        + time_gap_score(hours_since_last) * PATTERN_WEIGHTS["time_gap"]
        + (1.5 - _f(initiation_ratio)) * PATTERN_WEIGHTS["balance"]
    )
    return np.where(np.asarray(has_history, dtype=bool), np.clip(value, 0.0, 1.0), 0.5)


def pad_influence(pleasure: ArrayLike, arousal: ArrayLike, dominance: ArrayLike) -> Floats:
    """``(0.8 + 0.3·P) × (1 − 0.2·|A|) × (0.9 + 0.2·D)``: mood's pull towards reaching out."""
    return (
        (0.8 + 0.3 * _f(pleasure)) * (1 - 0.2 * np.abs(_f(arousal))) * (0.9 + 0.2 * _f(dominance))
    )


def personality_factor(traits: Mapping[str, ArrayLike], pad: tuple[ArrayLike, ...]) -> Floats:
    """Big Five term times the PAD multiplier, clamped to [0.3, 1.7]; NaN traits read 1.0.

    Args:
        traits: the five traits by name, each an array in [0, 1] (NaN: no personality).
        pad: ``(pleasure, arousal, dominance)`` arrays in [-1, 1].
    """
    term = 1.0 + sum((_f(traits[name]) - 0.5) * weight for name, weight in TRAIT_WEIGHTS.items())
    value = np.clip(term * pad_influence(*pad), 0.3, 1.7)
    return np.where(np.isnan(value), 1.0, value)


def recent_contact_penalty(hours_since_last_proactive: ArrayLike) -> Floats:
    """``0.5 × (1 − h/24)`` within a day of the last proactive message, else 0."""
    h = _f(hours_since_last_proactive)
    value = np.where(h < 24, 0.5 * (1 - np.maximum(h, 0.0) / 24), 0.0)
    return np.where(np.isnan(h), 0.0, value)


def combine(
    need: ArrayLike,
    timing: ArrayLike,
    pattern: ArrayLike,
    *,
    personality: ArrayLike,
    penalty: ArrayLike,
) -> Floats:
    """``(need·0.4 + timing·0.25 + pattern·0.35) × personality × (1 − penalty)``, in [0, 1]."""
    base = (
        _f(need) * SCORE_WEIGHTS["need"]
        + _f(timing) * SCORE_WEIGHTS["timing"]
        + _f(pattern) * SCORE_WEIGHTS["pattern"]
    )
    return np.clip(base * _f(personality) * (1 - _f(penalty)), 0.0, 1.0)


def primary_trigger(need: ArrayLike, timing: ArrayLike, pattern: ArrayLike) -> NDArray[Any]:
    """The dominant weighted component's trigger name; ``general`` if all are 0."""
    parts = np.stack(
        [
            _f(need) * SCORE_WEIGHTS["need"],
            _f(timing) * SCORE_WEIGHTS["timing"],
            _f(pattern) * SCORE_WEIGHTS["pattern"],
        ],
        axis=-1,
    )
    index = np.where(parts.max(axis=-1) > 0, parts.argmax(axis=-1), 3)
    return np.asarray(TRIGGERS, dtype=object)[index]
