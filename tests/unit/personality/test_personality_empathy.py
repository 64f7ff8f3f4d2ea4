"""Empathy: the companion's mood follows what the user feels, in six languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.personality.core import PRESETS, BigFive, apply_delta, appraise_delta
from companion.personality.core.pad import baseline_from_big_five, decay_toward, emotion_label
from companion.personality.core.sentiment import analyse
from companion.personality.empathy_check import AXES, load_labelled, score
from companion.types import PAD

DATA = Path(__file__).resolve().parents[3] / "bench/data/personality/empathy_labelled.jsonl"
CHEERFUL = PAD(0.65, 0.3, 0.3)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_grief_saddens_even_a_cheerful_companion(preset: str) -> None:
    text = "My grandmother died this morning. I cannot stop crying."
    rule, delta = appraise_delta(text, PRESETS[preset], current=CHEERFUL)
    after = apply_delta(CHEERFUL, delta)
    assert rule == "empathy"
    assert after.pleasure < 0.1 and after.arousal < CHEERFUL.arousal
    assert after.dominance < CHEERFUL.dominance
    assert emotion_label(after) == "sad"


@pytest.mark.parametrize(
    "text",
    [
        "I was diagnosed with cancer today.",
        "I got laid off this afternoon.",
        "Ich habe meinen Job verloren.",
        "Mi madre está en el hospital, tengo miedo.",
    ],
)
def test_worry_makes_the_companion_concerned(text: str) -> None:
    traits = PRESETS["supportive_friend"]
    after = apply_delta(CHEERFUL, appraise_delta(text, traits, current=CHEERFUL)[1])
    assert after.pleasure < 0.1 and after.arousal > CHEERFUL.arousal
    assert emotion_label(after) == "anxious"


@pytest.mark.parametrize(
    "text",
    ["Meine Oma ist gestorben.", "Ma mère est décédée.", "Mio nonno è morto.", "Meu pai morreu."],
)
def test_bereavement_in_other_languages(text: str) -> None:
    assert analyse(text).kind == "loss"
    assert appraise_delta(text, PRESETS["curious_companion"], current=CHEERFUL)[1].pleasure < -0.4


def test_good_news_lifts_and_negation_and_sarcasm_are_read() -> None:
    neutral = BigFive(0.5, 0.5, 0.5, 0.5, 0.5)
    assert appraise_delta("We just got engaged!", neutral)[1].pleasure > 0.1
    assert appraise_delta("No worries at all, I'm doing great!", neutral)[1].pleasure > 0
    assert appraise_delta("Oh great, my car broke down again.", neutral)[1].pleasure < 0
    assert appraise_delta("What time is it in Lisbon?", neutral) == ("none", PAD())


def test_neuroticism_still_shapes_empathy() -> None:
    text = "My dog died yesterday."
    stable = BigFive(0.5, 0.5, 0.5, 0.5, 0.1)
    nervous = BigFive(0.5, 0.5, 0.5, 0.5, 0.9)
    calm = appraise_delta(text, stable, current=PAD())[1].pleasure
    assert appraise_delta(text, nervous, current=PAD())[1].pleasure < calm < 0


def test_homeostasis_brings_the_mood_back_after_grief() -> None:
    baseline = baseline_from_big_five(PRESETS["curious_companion"])
    sad = apply_delta(
        baseline,
        appraise_delta("My mom passed away.", PRESETS["curious_companion"], current=baseline)[1],
    )
    later = decay_toward(sad, baseline, minutes=600, half_life_minutes=60)
    assert sad.pleasure < 0 < later.pleasure
    assert abs(later.pleasure - baseline.pleasure) < 0.01


@pytest.mark.parametrize("split", ["train", "heldout"])
def test_labelled_set_agreement_per_axis(split: str) -> None:
    rows = [r for r in load_labelled(DATA) if r.split == split]
    assert len(rows) >= 100
    result = score(rows)
    for axis in AXES:
        assert result.rate(axis) >= 0.85, (axis, result.misses[:5])
    assert {r.lang for r in rows} >= {"en", "de", "fr", "es", "it", "pt"}
