"""Needs, quirk lifecycle "B", style traits and the prompt block."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from companion.personality.core import (
    DEFAULT_STYLE,
    NEED_RATES,
    Exchange,
    Pattern,
    QuirkView,
    apply_adjustments,
    detect_patterns,
    engagement_adjustments,
    evolve,
    grow,
    mood_nudge,
    render_mood,
    render_prompt,
    satisfied_by,
    urgent,
)
from companion.personality.core.quirks import reply_traits
from companion.types import PAD

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


# --- needs ---------------------------------------------------------------------------


def test_need_rates_and_growth() -> None:
    assert NEED_RATES == {
        "social": 0.03,
        "intellectual": 0.02,
        "creative": 0.015,
        "rest": 0.04,
        "validation": 0.025,
    }
    assert grow(0.5, need="social", hours=10) == pytest.approx(0.8)
    assert grow(0.5, need="rest", hours=100) == 1.0
    assert grow(0.5, need="creative", hours=-3) == 0.5


def test_satisfaction_mapping() -> None:
    assert satisfied_by("hi") == {"social"}
    assert satisfied_by("Why is the sky blue?") == {"social", "intellectual"}
    assert "creative" in satisfied_by("let's write a poem together")
    assert "validation" in satisfied_by("thank you, you helped a lot")
    assert "rest" in satisfied_by("good night, time to relax")
    assert satisfied_by("hi", arousal_after=0.0) == {"social", "rest"}  # a calm turn rests


def test_urgent_and_mood_nudge() -> None:
    levels = {"social": 0.95, "rest": 0.75, "creative": 0.4}
    assert urgent(levels) == ["social", "rest"]
    assert urgent(levels, threshold=0.8) == ["social"]
    nudge = mood_nudge(levels)
    assert nudge.pleasure == pytest.approx(-(0.1 * 0.25 / 0.3 + 0.1 * 0.05 / 0.3))
    assert mood_nudge({"social": 0.5}) == PAD(0.0, 0.0, 0.0)
    assert mood_nudge(dict.fromkeys(NEED_RATES, 1.0)).pleasure == pytest.approx(-0.3)


# --- quirks (lifecycle B) ------------------------------------------------------------


def _pattern(occurrences: int, confidence: float, name: str = "uses_emoji") -> Pattern:
    return Pattern(name, "speech_pattern", "emoji", occurrences, confidence)


def test_new_quirk_needs_three_observations_and_confidence_above_07() -> None:
    assert evolve([], [_pattern(3, 0.71)], now=NOW)[1] == [_pattern(3, 0.71)]
    assert evolve([], [_pattern(2, 0.9)], now=NOW)[1] == []
    assert evolve([], [_pattern(5, 0.7)], now=NOW)[1] == []


def test_existing_active_quirk_is_not_recreated() -> None:
    active = QuirkView("uses_emoji", 0.3, True, NOW)
    assert evolve([active], [_pattern(9, 0.9)], now=NOW)[1] == []


def test_reinforce_decay_deactivate() -> None:
    fresh = QuirkView("a", 0.1, True, NOW - timedelta(hours=20))
    idle = QuirkView("b", 0.5, True, NOW - timedelta(days=7))
    fading = QuirkView("c", 0.14, True, NOW - timedelta(days=10))
    middle = QuirkView("d", 0.5, True, NOW - timedelta(days=3))
    capped = QuirkView("e", 0.98, True, NOW)
    updated, _ = evolve([fresh, idle, fading, middle, capped], [], now=NOW)
    by_name = {q.name: q for q in updated}
    assert by_name["a"].strength == pytest.approx(0.15) and by_name["a"].is_active
    assert by_name["b"].strength == pytest.approx(0.4) and by_name["b"].is_active
    assert by_name["c"].strength == pytest.approx(0.04) and not by_name["c"].is_active
    assert "d" not in by_name  # between 1 and 7 days: unchanged
    assert by_name["e"].strength == 1.0


def test_stylometric_detectors() -> None:
    replies = ["Oh nice! What happened next? 😊"] * 4 + ["Sure."]
    found = {p.name: p for p in detect_patterns(replies)}
    assert found["asks_follow_up_questions"].occurrences == 4
    assert found["asks_follow_up_questions"].confidence == pytest.approx(0.8)
    assert found["uses_emoji"].confidence == pytest.approx(0.8)
    assert found["brief_replies"].occurrences == 5
    assert found["long_winded"].occurrences == 0
    assert "says 'oh nice what'" in found
    assert detect_patterns([]) == []
    seen = reply_traits("Oh nice! What happened next? 😊")
    assert {"says 'oh nice what'", "uses_emoji", "asks_follow_up_questions"} <= seen


# --- style traits --------------------------------------------------------------------


def test_her_adjustment_scaled_by_speed() -> None:
    traits = dict(DEFAULT_STYLE)
    new, diff = apply_adjustments(traits, {"warmth": 5, "humor": -4, "charm": 5}, speed="medium")
    assert new["warmth"] == 78  # 75 + 5 × 0.5 = 77.5, rounded half up
    assert new["humor"] == 68
    assert diff == {"warmth": {"from": 75, "to": 78}, "humor": {"from": 70, "to": 68}}
    assert apply_adjustments(traits, {"warmth": 5}, speed="fast")[0]["warmth"] == 80
    assert apply_adjustments(traits, {"warmth": 5}, speed="slow")[0]["warmth"] == 76


def test_bounds_and_immutables() -> None:
    high = {**DEFAULT_STYLE, "emotional_depth": 94}
    new, _ = apply_adjustments(high, {"emotional_depth": 50, "empathy": -5}, speed="fast")
    assert new["emotional_depth"] == 95
    assert "empathy" not in new


@given(
    st.dictionaries(st.sampled_from(list(DEFAULT_STYLE)), st.integers(20, 95), min_size=5),
    st.lists(
        st.dictionaries(
            st.sampled_from(list(DEFAULT_STYLE)), st.floats(-100, 100, allow_nan=False)
        ),
        max_size=20,
    ),
    st.sampled_from(["slow", "medium", "fast"]),
)
def test_traits_never_leave_bounds(
    start: dict[str, int], rounds: list[dict[str, float]], speed: str
) -> None:
    traits = start
    for adjustments in rounds:
        before = dict(traits)
        traits, _ = apply_adjustments(traits, adjustments, speed=speed)
        for name, value in traits.items():
            assert 20 <= value <= 95
            assert abs(value - before[name]) <= 5  # at most ±5 × speed (≤ 1), rounded


def test_engagement_signals() -> None:
    fun = [Exchange("haha that's hilarious, tell me more about it!", "A joke…", 30)] * 4
    adjustments, reasoning = engagement_adjustments(fun)
    assert adjustments["humor"] > 0 and "laughter 1.00" in reasoning
    cold = [Exchange("stop, just answer", "A long reply " * 30, 5000)] * 4
    adjustments, _ = engagement_adjustments(cold)
    assert adjustments["assertiveness"] < 0 and adjustments["curiosity"] < 0
    assert engagement_adjustments(fun[:2]) == ({}, "not enough exchanges")


# --- prompt --------------------------------------------------------------------------


def test_prompt_block_is_compact_and_complete() -> None:
    text = render_prompt(
        name="Mira",
        big_five=dict(
            openness=0.8,
            conscientiousness=0.5,
            extraversion=0.6,
            agreeableness=0.7,
            neuroticism=0.3,
        ),
        pad=PAD(0.42, -0.1, 0.2),
        emotion="relaxed",
        quirks=[("uses_emoji", 0.34)],
        urgent_needs=[("social", 0.86)],
        style=DEFAULT_STYLE,
    )
    assert "CURRENT EMOTIONAL STATE: relaxed (pleasure 0.42, arousal -0.10" in text
    assert "DEVELOPED QUIRKS: uses_emoji (strength: 0.3)" in text
    assert "CURRENT NEEDS: social (0.9)" in text
    assert "ask follow-up questions" in text and "NOT a helpful assistant" in text
    assert len(text.split()) < 220  # a few hundred tokens at most
    steady = render_prompt(
        name="Mira",
        big_five=dict.fromkeys(
            ["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"], 0.5
        ),
        pad=PAD(0.42, -0.1, 0.2),
        emotion="relaxed",
        quirks=[],
        urgent_needs=[("social", 0.86)],
        style=DEFAULT_STYLE,
        with_mood=False,
    )
    # Without the mood the block is the same whatever the mood: a stable cache prefix.
    assert "CURRENT EMOTIONAL STATE" not in steady and "CURRENT NEEDS" not in steady
    mood = render_mood(pad=PAD(0.42, -0.1, 0.2), emotion="relaxed", urgent_needs=[])
    assert "CURRENT EMOTIONAL STATE: relaxed" in mood and "All needs satisfied" in mood
    empty = render_prompt(
        name="M",
        big_five=dict.fromkeys(
            ["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"], 0.5
        ),
        pad=PAD(),
        emotion="neutral",
        quirks=[],
        urgent_needs=[],
        style=DEFAULT_STYLE,
    )
    assert "None yet" in empty and "All needs satisfied" in empty
