"""Our written sets are training data: regression checks on them, not quality figures.

Quality figures come only from public data nobody here wrote (``companion bench
security``, docs/BENCHMARKS.md). These tests guard against a change that breaks what
the detector was built on: the patterns and the classifier both learned from these
sentences, so near-perfect scores are expected and prove nothing about unseen text.
"""

from __future__ import annotations

from importlib import resources

from companion.security import Detector, training
from companion.security.corpus import TRAINING_FILES
from companion.security.evaluation import evaluate

#: Benign JSON, code and logs with ``"role": "system"`` fields and ``[system]`` tags,
#: which the pattern layer decides alone by policy (docs/SECURITY.md).
STRUCTURED = "written_structured.jsonl"


async def test_the_detector_still_fits_our_written_sets() -> None:
    examples = [e for name in TRAINING_FILES if name != STRUCTURED for e in training(name)]
    report = await evaluate(Detector(), examples)
    assert report.attacks >= 500 and report.benign >= 400
    assert report.tpr >= 0.95, report.misses[:20]
    assert report.fpr <= 0.02, report.false_alarm_texts[:20]


async def test_structured_training_text_is_only_flagged_where_the_patterns_decide() -> None:
    detector, patterns = Detector(), Detector(use_classifier=False)
    examples = training(STRUCTURED)
    flagged = [e.text for e in examples if (await detector.classify(e.text)).flagged(0.7)]
    assert len(examples) >= 30 and len(flagged) <= 10, flagged
    for text in flagged:
        assert (await patterns.classify(text)).flagged(0.7), text


async def test_patterns_alone_raise_no_false_alarm_on_the_original_corpus() -> None:
    report = await evaluate(Detector(use_classifier=False), training("corpus.jsonl"))
    assert report.fpr == 0.0, report.false_alarm_texts


def test_every_packaged_set_is_declared_training_data() -> None:
    packaged = {
        entry.name
        for entry in resources.files("companion.security.data").iterdir()
        if entry.name.endswith(".jsonl")
    }
    assert packaged == set(TRAINING_FILES)
    for name in TRAINING_FILES:
        header = resources.files("companion.security.data").joinpath(name).read_text()[:400]
        assert "held-out split" not in header.lower() and "never used for tuning" not in header


def test_written_sets_do_not_repeat_sentences() -> None:
    texts = [e.text.casefold() for e in training()]
    assert len(texts) == len(set(texts))
