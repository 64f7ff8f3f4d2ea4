"""Value types shared across domains (kept tiny and dependency-free)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PAD", "clamp"]


def clamp(value: float, low: float = -1.0, high: float = 1.0) -> float:
    """``value`` limited to ``[low, high]``."""
    return max(low, min(high, value))


@dataclass(frozen=True, slots=True)
class PAD:
    """A point in Pleasure-Arousal-Dominance space, each axis in [-1, 1]."""

    pleasure: float = 0.0
    arousal: float = 0.0
    dominance: float = 0.0

    def clamped(self) -> PAD:
        """This point with every axis clamped to [-1, 1]."""
        return PAD(clamp(self.pleasure), clamp(self.arousal), clamp(self.dominance))

    def to_dict(self) -> dict[str, float]:
        """``{"pleasure": …, "arousal": …, "dominance": …}`` rounded for storage."""
        return {
            "pleasure": round(self.pleasure, 4),
            "arousal": round(self.arousal, 4),
            "dominance": round(self.dominance, 4),
        }

    @classmethod
    def from_dict(cls, data: dict[str, float] | None) -> PAD:
        """Parse a stored dict (missing axes are 0)."""
        data = data or {}
        return cls(
            float(data.get("pleasure", 0.0)),
            float(data.get("arousal", 0.0)),
            float(data.get("dominance", 0.0)),
        )
