"""One pass over a batch of users: features in, scores and decisions out (pure).

``Features`` is what the SQL loader (``proactive.features``) or the fake-clock
simulation produces — one array element per user; ``evaluate`` applies the score
(``score.py``) and the hard limits (``guardrails.py``) in a handful of numpy
operations, so a pass over 100k users costs milliseconds of Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from companion.proactive.core import score as S
from companion.proactive.core.guardrails import GuardrailLimits, blocked_by, unblocked

__all__ = ["Evaluation", "Features", "evaluate"]

F64 = NDArray[np.float64]


@dataclass
class Features:
    """Everything the score and the limits need, one element per user.

    ``need_levels``/``need_thresholds``/``need_weights`` are ``(users, 5)`` (NaN for a
    missing need); trait and PAD arrays are NaN for users without a personality.
    Hours are NaN where the event never happened.
    """

    user_ids: NDArray[np.object_]
    need_levels: F64
    need_thresholds: F64
    need_weights: F64
    hour_count: F64
    hour_max: F64
    day_count: F64
    day_max: F64
    samples: F64
    hours_since_activity: F64
    response_rate: F64
    avg_conversation_length: F64
    initiation_ratio: F64
    has_history: NDArray[np.bool_]
    traits: dict[str, F64]
    pad: tuple[F64, F64, F64]
    suspended: NDArray[np.bool_]
    enabled: NDArray[np.bool_]
    quiet: NDArray[np.bool_]
    sent_today: NDArray[np.int64]
    hours_since_proactive: F64
    last_answered: NDArray[np.bool_]
    hours_since_decline: F64
    previous_unanswered: NDArray[np.bool_]


@dataclass
class Evaluation:
    """Per-user results of one pass."""

    user_ids: NDArray[np.object_]
    score: F64
    need: F64
    timing: F64
    pattern: F64
    personality: F64
    penalty: F64
    trigger: NDArray[np.object_]
    blocked_by: NDArray[np.object_]
    initiate: NDArray[np.bool_]

    def reason(self, index: int, *, threshold: float) -> str:
        """A one-line explanation of user ``index``'s decision."""
        if self.blocked_by[index] is not None:
            return f"blocked by {self.blocked_by[index]} (score {self.score[index]:.3f})"
        verb = "initiate" if self.initiate[index] else "wait"
        cmp = ">=" if self.initiate[index] else "<"
        return (
            f"{verb}: score {self.score[index]:.3f} {cmp} {threshold:.2f}, "
            f"trigger {self.trigger[index]}"
        )


def evaluate(features: Features, *, limits: GuardrailLimits, threshold: float) -> Evaluation:
    """Score every user and apply the hard limits; no limit is ever overridden."""
    f = features
    need = S.need_urgency(f.need_levels, f.need_thresholds, f.need_weights)
    timing = S.timing_score(
        f.hour_count,
        f.hour_max,
        f.day_count,
        f.day_max,
        samples=f.samples,
        hours_since_activity=f.hours_since_activity,
    )
    gap = np.where(np.isnan(f.hours_since_activity), 24.0, f.hours_since_activity)
    pattern = S.pattern_score(
        f.response_rate,
        f.avg_conversation_length,
        gap,
        initiation_ratio=f.initiation_ratio,
        has_history=f.has_history,
    )
    personality = S.personality_factor(f.traits, f.pad)
    penalty = S.recent_contact_penalty(f.hours_since_proactive)
    total = S.combine(need, timing, pattern, personality=personality, penalty=penalty)
    blocks = blocked_by(
        limits=limits,
        suspended=f.suspended,
        enabled=f.enabled,
        quiet=f.quiet,
        sent_today=f.sent_today,
        hours_since_last=f.hours_since_proactive,
        last_answered=f.last_answered,
        hours_since_decline=f.hours_since_decline,
        previous_unanswered=f.previous_unanswered,
    )
    initiate = (total >= threshold) & unblocked(blocks)
    return Evaluation(
        user_ids=f.user_ids,
        score=total,
        need=need,
        timing=timing,
        pattern=pattern,
        personality=personality,
        penalty=penalty,
        trigger=S.primary_trigger(need, timing, pattern),
        blocked_by=blocks,
        initiate=np.asarray(initiate, dtype=bool),
    )
