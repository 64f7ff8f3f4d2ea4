"""Plain views of personality rows for the API and other domains."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from companion.personality.core.presets import BIG_FIVE_TRAITS
from companion.personality.core.style import STYLE_TRAITS
from companion.personality.models import Need, PersonalityState, Quirk, StyleTraitVersion

__all__ = ["need_view", "quirk_view", "state_view", "style_view"]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def state_view(row: PersonalityState) -> dict[str, Any]:
    """One ``personality_state`` row."""
    return {
        "id": row.id,
        "timestamp": _iso(row.timestamp),
        "big_five": {t: getattr(row, t) for t in BIG_FIVE_TRAITS},
        "pad": {"pleasure": row.pleasure, "arousal": row.arousal, "dominance": row.dominance},
        "pad_baseline": row.pad_baseline,
        "emotion_label": row.emotion_label,
        "is_current": row.is_current,
        "trigger_event": row.trigger_event,
    }


def need_view(row: Need, level: float | None = None) -> dict[str, Any]:
    """One need; ``level`` overrides the stored level with the lazily grown one."""
    current = row.current_level if level is None else level
    return {
        "need_type": row.need_type,
        "level": round(current, 4),
        "rate_per_hour": row.decay_rate,
        "urgent": current > row.trigger_threshold,
        "satisfaction_count": row.satisfaction_count,
        "last_satisfied": _iso(row.last_satisfied),
        "last_updated": _iso(row.last_updated),
    }


def quirk_view(row: Quirk) -> dict[str, Any]:
    """One quirk."""
    return {
        "name": row.name,
        "category": row.category,
        "description": row.description,
        "strength": row.strength,
        "confidence": row.confidence,
        "is_active": row.is_active,
        "observation_count": row.observation_count,
        "last_observed": _iso(row.last_observed),
        "examples": row.examples,
    }


def style_view(row: StyleTraitVersion) -> dict[str, Any]:
    """One style-trait version with its reason and diff."""
    return {
        "version": row.version,
        "traits": {t: getattr(row, t) for t in STYLE_TRAITS},
        "reason": row.reason,
        "source": row.source,
        "diff": row.diff,
        "is_current": row.is_current,
        "created_at": _iso(row.created_at),
    }
