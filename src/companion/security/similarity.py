"""Layer 3: similarity to labelled exemplars (pure numpy; the vectors come from outside).

The exemplar matrix is built once (``ExemplarIndex.build``) from the training corpus
with the runtime's embedder; scoring a message is one matrix-vector product. The
score of a category is the mean cosine similarity of the message to its ``k``
nearest exemplars of that category; the confidence is how far that beats the
nearest *benign* exemplars, squashed by a logistic calibrated on the training split
(leave-one-out, see ``docs/BENCHMARKS.md``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from companion.security.patterns import CATEGORIES

__all__ = ["BENIGN", "ExemplarIndex", "SimilarityResult"]

BENIGN = "benign"
_LABELS = (*CATEGORIES, BENIGN)

#: Logistic calibration of ``margin = sim(category) - sim(benign)`` (leave-one-out on
#: the training split with MiniLM): a margin of 0.1 means ~0.75 confidence.
_SLOPE = 14.0
_CENTRE = 0.02
#: Below this similarity nothing in the corpus resembles the message: no opinion.
_MIN_SIMILARITY = 0.45

FloatMatrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class SimilarityResult:
    """The best attack category by similarity, its confidence and the raw similarities."""

    category: str | None
    confidence: float
    similarities: dict[str, float]


class ExemplarIndex:
    """Unit vectors of labelled exemplars, grouped by label."""

    def __init__(self, vectors: FloatMatrix, labels: Sequence[str], *, k: int = 3) -> None:
        """Keep ``vectors`` (rows are unit vectors) with one label per row."""
        if len(vectors) != len(labels):
            raise ValueError("one label per exemplar vector")
        self.k = k
        self._groups = {
            label: vectors[[i for i, lab in enumerate(labels) if lab == label]] for label in _LABELS
        }

    @classmethod
    def from_lists(cls, vectors: Sequence[Sequence[float]], labels: Sequence[str]) -> ExemplarIndex:
        """Build from plain lists (what ``Embedder.embed`` returns)."""
        return cls(np.asarray(vectors, dtype=np.float32), labels)

    def __len__(self) -> int:
        return sum(len(group) for group in self._groups.values())

    def _similarity(self, vector: FloatMatrix, label: str) -> float:
        group = self._groups[label]
        if len(group) == 0:
            return 0.0
        sims = group @ vector
        top = np.partition(sims, -min(self.k, len(sims)))[-min(self.k, len(sims)) :]
        return float(top.mean())

    def score(self, vector: Sequence[float]) -> SimilarityResult:
        """Judge one unit vector against the exemplars.

        Args:
            vector: the message's embedding (unit length).

        Returns:
            The most similar attack category and a calibrated confidence in [0, 1]
            (0 when the message is closer to benign chat or like nothing known).
        """
        query = np.asarray(vector, dtype=np.float32)
        sims = {label: self._similarity(query, label) for label in _LABELS}
        category = max(CATEGORIES, key=lambda c: sims[c])
        if sims[category] < _MIN_SIMILARITY:
            return SimilarityResult(None, 0.0, sims)
        margin = sims[category] - sims[BENIGN]
        confidence = 1.0 / (1.0 + math.exp(-_SLOPE * (margin - _CENTRE)))
        return SimilarityResult(category, round(confidence, 4), sims)
