"""Detection quality on a labelled set: TPR/FPR/F1 overall, per category, per any tag.

Used by ``companion bench security`` and the tests. "Detected" means flagged above the
action threshold, whatever the category; per-category figures also require the right
category. ``breakdown`` groups the same verdicts by language, source or anything else.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from companion.security.corpus import Example
from companion.security.detector import Detection, Detector
from companion.security.patterns import CATEGORIES

__all__ = [
    "AttackRates",
    "CategoryScore",
    "GroupScore",
    "Report",
    "breakdown",
    "evaluate",
    "percentile",
]

T = TypeVar("T")


@dataclass(frozen=True)
class CategoryScore:
    """One category's confusion counts and rates."""

    category: str
    support: int
    tp: int
    fp: int
    fn: int
    negatives: int

    @property
    def tpr(self) -> float:
        """Recall: attacks of this category flagged as this category."""
        return self.tp / self.support if self.support else 0.0

    @property
    def fpr(self) -> float:
        """Messages of other labels (benign or another category) given this category."""
        return self.fp / self.negatives if self.negatives else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else 0.0


class AttackRates:
    """TPR, FPR and F1 of "attack" (any category) from four counts of the subclass."""

    attacks: int
    detected: int
    benign: int
    false_alarms: int

    @property
    def tpr(self) -> float:
        """Attacks flagged / attacks."""
        return self.detected / self.attacks if self.attacks else 0.0

    @property
    def fpr(self) -> float:
        """Benign messages flagged / benign messages."""
        return self.false_alarms / self.benign if self.benign else 0.0

    @property
    def f1(self) -> float:
        """F1 of "attack": ``2·detected / (attacks + detected + false alarms)``."""
        denominator = self.attacks + self.detected + self.false_alarms
        return 2 * self.detected / denominator if denominator else 0.0


@dataclass(frozen=True)
class GroupScore(AttackRates):
    """Attack-vs-benign counts of one group (a language, a source ...)."""

    name: str
    attacks: int
    detected: int
    benign: int
    false_alarms: int


def percentile(values: Sequence[float], q: float) -> float:
    """Percentile ``q`` (0-100) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass
class Report(AttackRates):
    """Everything measured on one dataset."""

    size: int
    attacks: int
    benign: int
    detected: int
    false_alarms: int
    categories: list[CategoryScore] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    false_alarm_texts: list[str] = field(default_factory=list)
    layers: dict[str, int] = field(default_factory=dict)
    flagged: list[bool] = field(default_factory=list)
    detections: list[Detection] = field(default_factory=list)

    def percentile_ms(self, q: float) -> float:
        """Latency percentile ``q`` (0-100) in milliseconds."""
        return percentile(self.latencies_ms, q)


async def _timed(detector: Detector, text: str, repeats: int) -> tuple[Detection, float]:
    best = float("inf")
    detection = None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        detection = await detector.classify(text)
        best = min(best, (time.perf_counter() - start) * 1000)
    assert detection is not None
    return detection, best


async def evaluate(
    detector: Detector, examples: Sequence[Example], *, threshold: float = 0.7, repeats: int = 1
) -> Report:
    """Classify every example and score the results.

    Args:
        detector: the detector under test.
        examples: labelled messages (label ``benign``, a category, or ``attack``).
        threshold: the action threshold (SECURITY_CONFIDENCE_THRESHOLD).
        repeats: time each check this many times and keep the fastest, which filters
            out other processes' load on a shared machine.

    Returns:
        The report (latency is wall time per ``classify`` call).
    """
    predicted: list[str | None] = []
    report = Report(len(examples), 0, 0, 0, 0)
    for example in examples:
        detection, elapsed_ms = await _timed(detector, example.text, repeats)
        report.latencies_ms.append(elapsed_ms)
        report.layers[detection.layer] = report.layers.get(detection.layer, 0) + 1
        report.detections.append(detection)
        flagged = detection.flagged(threshold)
        report.flagged.append(flagged)
        predicted.append(detection.category if flagged else None)
        if example.label == "benign":
            report.benign += 1
            if flagged:
                report.false_alarms += 1
                report.false_alarm_texts.append(example.text)
        else:
            report.attacks += 1
            report.detected += int(flagged)
            if not flagged:
                report.misses.append(example.text)
    labels = [e.label for e in examples]
    for category in CATEGORIES:
        pairs = list(zip(labels, predicted, strict=True))
        tp = sum(1 for lab, p in pairs if lab == category and p == category)
        fp = sum(1 for lab, p in pairs if lab != category and p == category)
        support = labels.count(category)
        report.categories.append(
            CategoryScore(category, support, tp, fp, support - tp, len(labels) - support)
        )
    return report


def breakdown(
    items: Sequence[T],
    flagged: Sequence[bool],
    *,
    key: Callable[[T], str],
    attack: Callable[[T], bool],
) -> list[GroupScore]:
    """Attack-vs-benign scores per ``key(item)``, largest group first."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for item, hit in zip(items, flagged, strict=True):
        row = counts[key(item)]
        if attack(item):
            row[0] += 1
            row[1] += int(hit)
        else:
            row[2] += 1
            row[3] += int(hit)
    scores = [GroupScore(name, *row) for name, row in counts.items()]
    return sorted(scores, key=lambda s: (-(s.attacks + s.benign), s.name))
