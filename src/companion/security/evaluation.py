"""Detection quality on a labelled set: per-category TPR/FPR/F1, attack-vs-benign, latency.

Used by ``companion bench security`` and the held-out test. "Detected" means flagged
above the action threshold, whatever the category; per-category figures also require
the right category.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from companion.security.corpus import Example
from companion.security.detector import Detection, Detector
from companion.security.patterns import CATEGORIES

__all__ = ["CategoryScore", "Report", "evaluate"]


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


@dataclass
class Report:
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
    embedded: int = 0

    @property
    def tpr(self) -> float:
        """Attacks flagged (any category) / attacks."""
        return self.detected / self.attacks if self.attacks else 0.0

    @property
    def fpr(self) -> float:
        """Benign messages flagged / benign messages."""
        return self.false_alarms / self.benign if self.benign else 0.0

    def percentile_ms(self, q: float) -> float:
        """Latency percentile ``q`` (0-100) in milliseconds."""
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def _timed(detector: Detector, text: str, repeats: int) -> tuple[Detection, float]:
    best = float("inf")
    detection = None
    for _ in range(max(1, repeats)):
        detector.clear_cache()  # every repeat pays for its embedding
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
        repeats: time each check this many times (cache cleared) and keep the fastest,
            which filters out other processes' load on a shared machine.

    Returns:
        The report (latency is wall time per ``classify`` call).
    """
    predicted: list[str | None] = []
    report = Report(len(examples), 0, 0, 0, 0)
    for example in examples:
        detection, elapsed_ms = await _timed(detector, example.text, repeats)
        report.latencies_ms.append(elapsed_ms)
        report.layers[detection.layer] = report.layers.get(detection.layer, 0) + 1
        report.embedded += int("classifier" in detection.indicators)
        flagged = detection.flagged(threshold)
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
    for category in CATEGORIES:
        labels = [e.label for e in examples]
        tp = sum(
            1 for lab, p in zip(labels, predicted, strict=True) if lab == category and p == category
        )
        fp = sum(
            1 for lab, p in zip(labels, predicted, strict=True) if lab != category and p == category
        )
        support = labels.count(category)
        report.categories.append(
            CategoryScore(category, support, tp, fp, support - tp, len(labels) - support)
        )
    return report
