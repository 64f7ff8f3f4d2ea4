"""Measured quality on the held-out split (never tuned on), deterministic layers only.

Floors: the issue's goal is TPR >= 0.90 at FPR <= 0.01. The held-out split has 60
attacks and 58 benign messages, so one false alarm is already an FPR of 0.017; the
floor allows one (FPR <= 0.02) and requires TPR >= 0.90 (at most 6 misses). The
patterns measured 60/60 and 0/58 when this test was written (docs/BENCHMARKS.md).
"""

from __future__ import annotations

from companion.security import Detector, heldout, training
from companion.security.evaluation import evaluate


async def test_heldout_attacks_are_caught_and_benign_chat_is_not() -> None:
    report = await evaluate(Detector(), heldout())
    assert report.attacks >= 60 and report.benign >= 55
    assert report.tpr >= 0.90, report.misses
    assert report.fpr <= 0.02, report.false_alarm_texts


async def test_heldout_categories_are_mostly_right() -> None:
    report = await evaluate(Detector(), heldout())
    for score in report.categories:
        assert score.f1 >= 0.85, score


async def test_training_split_has_no_false_alarms() -> None:
    report = await evaluate(Detector(), training())
    assert report.fpr == 0.0, report.false_alarm_texts
    assert report.tpr >= 0.95


def test_heldout_does_not_repeat_training_sentences() -> None:
    seen = {e.text.casefold() for e in training()}
    assert not [e.text for e in heldout() if e.text.casefold() in seen]
