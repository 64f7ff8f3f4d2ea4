"""Appraisal: the Discord design's exact OCC rules, threat rule, sentiment, personality shaping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from companion.personality.core import PRESETS, BigFive, apply_delta, appraise_delta, occ_delta
from companion.personality.core.sentiment import analyse
from companion.types import PAD

NEUTRAL = BigFive(0.5, 0.5, 0.5, 0.5, 0.5)


def _approx(pad: PAD) -> object:
    return PAD(
        pytest.approx(pad.pleasure),
        pytest.approx(pad.arousal),  # type: ignore[arg-type]
        pytest.approx(pad.dominance),
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "rule", "delta"),
    [
        ("I finally finished my thesis and I'm so happy!", "goal_achievement", PAD(0.2, 0.1, 0.05)),
        ("I failed the driving test", "goal_failure", PAD(-0.15, 0.05, -0.1)),
        ("Thank you, that was kind", "compliment", PAD(0.3, 0.05, 0.1)),
        ("What a lovely surprise, I'm delighted", "surprise", PAD(0.1, 0.2, 0.0)),
        ("Suddenly the power went out, awful", "surprise", PAD(-0.1, 0.2, 0.0)),
        ("Dinner with my family tonight", "social_connection", PAD(0.1, 0.05, 0.02)),
    ],
)
def test_occ_rules_give_seed_deltas(text: str, rule: str, delta: PAD) -> None:
    got_rule, got = occ_delta(text, analyse(text))
    assert got_rule == rule
    assert got == _approx(delta)
    # A neutral personality passes the seed's numbers through unchanged.
    assert appraise_delta(text, NEUTRAL) == (rule, _approx(delta))


def test_first_match_wins() -> None:
    # Contains both a failure keyword and "thank you": rule 2 comes first.
    assert occ_delta("It failed, thank you anyway", analyse("x"))[0] == "goal_failure"


def test_achievement_with_negative_sentiment_is_zero_in_the_seed_rule() -> None:
    text = "I finished the project but it was a horrible, miserable mess"
    assert occ_delta(text, analyse(text)) == ("goal_achievement", PAD())
    # … so our appraisal follows the feeling ("miserable" is a sad cue: empathy).
    rule, delta = appraise_delta(text, NEUTRAL)
    assert rule == "empathy" and delta.pleasure < 0


def test_threat_rule() -> None:
    assert appraise_delta("anything", NEUTRAL, threat=True) == ("threat", PAD(-0.3, 0.2, -0.2))


def test_new_puppy_raises_pleasure() -> None:  # DECISIONS.md#good-news
    rule, delta = appraise_delta("I got a new puppy today!", PRESETS["curious_companion"])
    assert rule == "sentiment" and delta.pleasure > 0.1


def test_grief_lowers_pleasure_and_arousal() -> None:
    _, delta = appraise_delta("My mom passed away last night.", NEUTRAL)
    assert delta.pleasure < -0.1 and delta.arousal < 0


def test_anger_raises_arousal() -> None:
    _, delta = appraise_delta("I am so angry at my boss, I hate this", NEUTRAL)
    assert delta.pleasure < 0 and delta.arousal > 0


def test_plain_message_barely_moves() -> None:
    assert appraise_delta("The meeting is at 3pm on Tuesday.", NEUTRAL) == ("none", PAD())


def test_neuroticism_amplifies_bad_news_extraversion_good_news() -> None:
    stable = BigFive(0.5, 0.5, 0.5, 0.5, 0.1)
    nervous = BigFive(0.5, 0.5, 0.5, 0.5, 0.9)
    bad = "I failed my exam"
    assert appraise_delta(bad, nervous)[1].pleasure < appraise_delta(bad, stable)[1].pleasure
    shy, outgoing = BigFive(0.5, 0.5, 0.1, 0.5, 0.5), BigFive(0.5, 0.5, 0.9, 0.5, 0.5)
    good = "thank you so much"
    assert appraise_delta(good, outgoing)[1].pleasure > appraise_delta(good, shy)[1].pleasure
    assert appraise_delta(good, outgoing)[1].arousal > appraise_delta(good, shy)[1].arousal


traits = st.builds(BigFive, *(st.floats(0, 1) for _ in range(5)))
axis = st.floats(min_value=-1, max_value=1, allow_nan=False)


@given(st.text(max_size=200), traits, st.builds(PAD, axis, axis, axis), st.booleans())
def test_appraised_mood_always_in_range(text: str, big5: BigFive, pad: PAD, threat: bool) -> None:
    _, delta = appraise_delta(text, big5, threat=threat)
    mood = apply_delta(pad, delta)
    assert all(-1 <= v <= 1 for v in (mood.pleasure, mood.arousal, mood.dominance))
