"""Measured quality of the full deterministic detector (patterns + the real MiniLM
classifier from the runtime), on both held-out splits.

Floors, from the figures in docs/BENCHMARKS.md (measured when these were written):
with the default screen (``cue``), held-out v1 TPR 0.983 / FPR 0.000 -> floors 0.95 /
0.02 (one false alarm of 58); held-out v2 (blind paraphrases) TPR 0.444 / FPR 0.000 ->
floors 0.40 / 0.04 (one of 30). v2's floor is low because it is the honest
generalisation figure; it guards against regressions, it is not the goal.
"""

from __future__ import annotations

from pathlib import Path

from companion.security import SecurityService, heldout, load_dataset
from companion.security.evaluation import evaluate

DATA = Path(__file__).resolve().parents[3] / "src" / "companion" / "security" / "data"


def _service(runtime: object) -> SecurityService:
    service = runtime.security  # type: ignore[attr-defined]
    assert isinstance(service, SecurityService)
    assert service.detector.index is not None, "the runtime's embedder feeds the classifier"
    return service


async def test_heldout_v1_with_the_embedding_classifier(runtime: object) -> None:
    report = await evaluate(_service(runtime).detector, heldout())
    assert report.tpr >= 0.95, report.misses
    assert report.fpr <= 0.02, report.false_alarm_texts


async def test_heldout_v2_blind_paraphrases(runtime: object) -> None:
    report = await evaluate(_service(runtime).detector, load_dataset(DATA / "heldout_v2.jsonl"))
    assert report.tpr >= 0.40, report.misses
    assert report.fpr <= 0.04, report.false_alarm_texts
