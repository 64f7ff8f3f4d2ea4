"""Pure personality algorithms (no I/O): presets, PAD, appraisal, needs, quirks, style."""

from __future__ import annotations

from companion.personality.core.appraisal import appraise_delta, occ_delta, shape
from companion.personality.core.needs import NEED_RATES, grow, mood_nudge, satisfied_by, urgent
from companion.personality.core.pad import (
    apply_delta,
    baseline_from_big_five,
    decay_toward,
    drift_baseline,
    emotion_label,
    mean_pad,
)
from companion.personality.core.presets import PRESETS, BigFive, resolve_big_five
from companion.personality.core.prompt import render_mood, render_prompt
from companion.personality.core.quirks import Pattern, QuirkView, detect_patterns, evolve
from companion.personality.core.style import (
    DEFAULT_STYLE,
    SPEED,
    STYLE_TRAITS,
    Exchange,
    apply_adjustments,
    engagement_adjustments,
)

__all__ = [
    "DEFAULT_STYLE",
    "NEED_RATES",
    "PRESETS",
    "SPEED",
    "STYLE_TRAITS",
    "BigFive",
    "Exchange",
    "Pattern",
    "QuirkView",
    "apply_adjustments",
    "apply_delta",
    "appraise_delta",
    "baseline_from_big_five",
    "decay_toward",
    "detect_patterns",
    "drift_baseline",
    "emotion_label",
    "engagement_adjustments",
    "evolve",
    "grow",
    "mean_pad",
    "mood_nudge",
    "occ_delta",
    "render_mood",
    "render_prompt",
    "resolve_big_five",
    "satisfied_by",
    "shape",
    "urgent",
]
