"""Big Five presets (DECISIONS.md#presets): the fixed temperament a companion is created with."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from companion.errors import InvalidInput

__all__ = ["BIG_FIVE_TRAITS", "PRESETS", "BigFive", "resolve_big_five"]

BIG_FIVE_TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")


@dataclass(frozen=True, slots=True)
class BigFive:
    """OCEAN traits, each in [0, 1]; fixed for the life of a companion."""

    openness: float
    conscientiousness: float
    extraversion: float
    agreeableness: float
    neuroticism: float

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not 0.0 <= float(value) <= 1.0:
                raise InvalidInput(f"big_five.{name} must be between 0 and 1, got {value}")

    def to_dict(self) -> dict[str, float]:
        """The five traits by name."""
        return {name: float(value) for name, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> BigFive:
        """Parse explicit values; every trait is required."""
        missing = [t for t in BIG_FIVE_TRAITS if t not in data]
        if missing:
            raise InvalidInput(f"big_five is missing: {', '.join(missing)}")
        unknown = sorted(set(data) - set(BIG_FIVE_TRAITS))
        if unknown:
            raise InvalidInput(f"big_five has unknown trait(s): {', '.join(unknown)}")
        return cls(**{t: float(data[t]) for t in BIG_FIVE_TRAITS})


#: The four presets. Values are ours, chosen so that each preset's
#: Mehrabian baseline is mildly pleasant and its style differs where the name says:
#: docs/PERSONALITY.md lists them with the baselines they produce.
PRESETS: dict[str, BigFive] = {
    "curious_companion": BigFive(0.85, 0.55, 0.65, 0.75, 0.30),
    "supportive_friend": BigFive(0.60, 0.65, 0.60, 0.90, 0.25),
    "intellectual_mentor": BigFive(0.80, 0.85, 0.45, 0.60, 0.20),
    "creative_collaborator": BigFive(0.95, 0.40, 0.70, 0.70, 0.40),
}


def resolve_big_five(preset: str) -> BigFive:
    """The Big Five of a named preset, or ``InvalidInput`` naming the choices."""
    try:
        return PRESETS[preset]
    except KeyError:
        raise InvalidInput(
            f"unknown personality preset {preset!r}; choose one of {', '.join(PRESETS)}"
        ) from None
