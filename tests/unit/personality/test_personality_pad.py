"""PAD arithmetic: the Discord design's exact cases, drift, octants, homeostasis properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from companion.personality.core import (
    PRESETS,
    BigFive,
    apply_delta,
    baseline_from_big_five,
    decay_toward,
    drift_baseline,
    emotion_label,
)
from companion.types import PAD

axis = st.floats(min_value=-1, max_value=1, allow_nan=False)
delta_axis = st.floats(min_value=-2, max_value=2, allow_nan=False)
pads = st.builds(PAD, axis, axis, axis)
deltas = st.builds(PAD, delta_axis, delta_axis, delta_axis)


def test_tst02_case1_adds_delta() -> None:
    result = apply_delta(PAD(0.1, 0.0, -0.2), PAD(0.3, 0.1, 0.4))
    assert result.pleasure == pytest.approx(0.4, abs=0.01)
    assert result.arousal == pytest.approx(0.1, abs=0.01)
    assert result.dominance == pytest.approx(0.2, abs=0.01)


def test_tst02_case2_clamps_at_upper_bound() -> None:
    assert apply_delta(PAD(0.8, 0.9, 0.7), PAD(0.5, 0.3, 0.5)) == PAD(1.0, 1.0, 1.0)


def test_tst02_case3_clamps_at_lower_bound() -> None:
    assert apply_delta(PAD(-0.9, -0.8, -0.7), PAD(-0.4, -0.5, -0.6)) == PAD(-1.0, -1.0, -1.0)


def test_drift_moves_one_percent_of_the_gap() -> None:
    recent = [PAD(0.6, 0.2, -0.1)] * 5
    new = drift_baseline(PAD(0.1, 0.0, 0.3), recent, rate=0.01)
    assert new is not None
    assert new.pleasure == pytest.approx(0.1 + (0.6 - 0.1) * 0.01)
    assert new.arousal == pytest.approx(0.002)
    assert new.dominance == pytest.approx(0.3 + (-0.1 - 0.3) * 0.01)


def test_drift_uses_the_mean_and_skips_under_five() -> None:
    assert drift_baseline(PAD(), [PAD(1, 1, 1)] * 4) is None
    new = drift_baseline(PAD(), [PAD(1, 0, 0)] * 2 + [PAD(0, 0, 0)] * 3, rate=0.01)
    assert new == PAD(pytest.approx(0.004), 0.0, 0.0)  # type: ignore[arg-type]


def test_drift_clamps() -> None:
    new = drift_baseline(PAD(1.0, -1.0, 0), [PAD(1, -1, 0)] * 5, rate=0.1)
    assert new == PAD(1.0, -1.0, 0.0)


@pytest.mark.parametrize(
    ("pad", "label"),
    [
        (PAD(0.5, 0.5, 0.5), "exuberant"),
        (PAD(0.5, 0.5, -0.5), "dependent"),
        (PAD(0.5, -0.5, 0.5), "relaxed"),
        (PAD(0.5, -0.5, -0.5), "docile"),
        (PAD(-0.5, 0.5, 0.5), "hostile"),
        (PAD(-0.5, 0.5, -0.5), "anxious"),
        (PAD(-0.5, -0.5, 0.5), "disdainful"),
        (PAD(-0.5, -0.5, -0.5), "sad"),
        (PAD(0.05, -0.05, 0.05), "neutral"),
    ],
)
def test_mehrabian_octants_plus_neutral(pad: PAD, label: str) -> None:
    assert emotion_label(pad) == label


def test_baseline_uses_emotional_stability() -> None:
    calm = baseline_from_big_five(BigFive(0.5, 0.5, 0.5, 0.5, 0.0))
    nervous = baseline_from_big_five(BigFive(0.5, 0.5, 0.5, 0.5, 1.0))
    assert calm.pleasure > nervous.pleasure  # P = … + 0.19 S
    assert calm.arousal < nervous.arousal  # A = … − 0.57 S
    assert baseline_from_big_five(BigFive(0.5, 0.5, 0.5, 0.5, 0.5)) == PAD(0.0, 0.0, 0.0)


def test_every_preset_has_a_pleasant_baseline() -> None:
    for name, traits in PRESETS.items():
        assert baseline_from_big_five(traits).pleasure > 0.1, name


def test_half_life_halves_the_distance() -> None:
    pad = decay_toward(PAD(1.0, 0.0, -1.0), PAD(), minutes=90, half_life_minutes=90)
    assert pad == PAD(0.5, 0.0, -0.5)


@given(pads, deltas)
def test_pad_always_in_range(pad: PAD, delta: PAD) -> None:
    result = apply_delta(pad, delta)
    for value in (result.pleasure, result.arousal, result.dominance):
        assert -1.0 <= value <= 1.0


@given(
    pads, pads, st.floats(min_value=0, max_value=10_000), st.floats(min_value=0, max_value=10_000)
)
def test_homeostasis_moves_monotonically_toward_baseline(
    pad: PAD, baseline: PAD, first: float, more: float
) -> None:
    def gap(p: PAD) -> float:
        return max(
            abs(p.pleasure - baseline.pleasure),
            abs(p.arousal - baseline.arousal),
            abs(p.dominance - baseline.dominance),
        )

    earlier = decay_toward(pad, baseline, minutes=first, half_life_minutes=90)
    later = decay_toward(pad, baseline, minutes=first + more, half_life_minutes=90)
    assert gap(later) <= gap(earlier) + 1e-12 <= gap(pad) + 2e-12
    # Never overshoots: each axis stays on its own side of the baseline.
    assert (later.pleasure - baseline.pleasure) * (pad.pleasure - baseline.pleasure) >= -1e-12
