"""The trained injection classifier: load the shipped weights and score a message (numpy).

A multinomial logistic regression over hashed character n-grams and words
(``features.py``) says benign / role_manipulation / system_query / injection_attempt.
The attack probability ``1 - P(benign)`` is then calibrated (Platt scaling fitted on
out-of-fold predictions, weighted to an even mix of attacks and benign messages) so
that a calibrated 0.7 means that about 70 % of training-like messages scoring there
are attacks in a stream where both are equally common: a likelihood ratio of 2.3,
independent of how many of each the training set holds.

The weights ship in ``security/data/injection-classifier-7.npz`` (int8 with one scale
per class, about 290 KB compressed), written by ``companion security train``
(``fitting.py``); loading needs no network and no other library.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from companion.security.features import BUCKETS, featurise

__all__ = [
    "CLASSES",
    "MODEL_FILE",
    "ClassifierScore",
    "InjectionClassifier",
    "calibrate",
    "load_classifier",
]

CLASSES = ("benign", "role_manipulation", "system_query", "injection_attempt")
#: Versioned with the model (``trainer.MODEL_VERSION``): a retrained model is a new file.
MODEL_FILE = "injection-classifier-7.npz"
#: Bumped when the feature extraction changes: a file of another version is refused.
FEATURE_VERSION = 1

FloatMatrix = npt.NDArray[np.float32]


def calibrate(raw: float, a: float, b: float) -> float:
    """Platt scaling: the calibrated attack probability of a raw attack logit."""
    z = a * raw + b
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


@dataclass(frozen=True)
class ClassifierScore:
    """The calibrated attack probability, the likeliest attack category and all classes."""

    probability: float
    category: str
    classes: dict[str, float] = field(default_factory=dict)


class InjectionClassifier:
    """The weights in memory; ``score`` is one sparse dot product per class."""

    def __init__(
        self,
        weights: FloatMatrix,
        bias: FloatMatrix,
        platt: tuple[float, float],
        meta: dict[str, Any] | None = None,
    ) -> None:
        """``weights`` is ``(BUCKETS, len(CLASSES))``; ``platt`` is ``(a, b)``."""
        if weights.shape != (BUCKETS, len(CLASSES)):
            raise ValueError(f"classifier weights must be {(BUCKETS, len(CLASSES))}")
        self.weights = np.asarray(weights, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)
        self.platt = platt
        self.meta = meta or {}

    def logits(self, canonical_text: str) -> FloatMatrix:
        """Per-class logits of a canonical text."""
        indices, values = featurise(canonical_text)
        # Elementwise, not ``values @ ...``: BLAS threads cost milliseconds on a busy CPU.
        result: FloatMatrix = (self.weights[indices] * values[:, None]).sum(axis=0) + self.bias
        return result

    def score(self, canonical_text: str) -> ClassifierScore:
        """Calibrated attack probability and category of one canonical text."""
        logits = self.logits(canonical_text).astype(np.float64)
        shifted = np.exp(logits - logits.max())
        probs = shifted / shifted.sum()
        benign = max(float(probs[0]), 1e-9)
        raw = math.log(max(1.0 - benign, 1e-9)) - math.log(benign)
        category = CLASSES[1 + int(np.argmax(probs[1:]))]
        return ClassifierScore(
            probability=calibrate(raw, *self.platt),
            category=category,
            classes={c: round(float(p), 4) for c, p in zip(CLASSES, probs, strict=True)},
        )

    def save(self, path: Path) -> None:
        """Write the weights as int8 with a per-class scale (compressed npz) plus metadata."""
        scale = np.abs(self.weights).max(axis=0) / 127.0
        scale[scale == 0] = 1.0
        quantised = np.round(self.weights / scale).astype(np.int8)
        meta = {**self.meta, "feature_version": FEATURE_VERSION, "classes": list(CLASSES)}
        np.savez_compressed(
            path,
            weights=quantised,
            scale=scale.astype(np.float32),
            bias=self.bias,
            platt=np.asarray(self.platt, dtype=np.float64),
            meta=np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8),
        )

    @classmethod
    def load(cls, path: Path) -> InjectionClassifier:
        """Read a file written by ``save``; refuse another feature version."""
        with np.load(path) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            if meta.get("feature_version") != FEATURE_VERSION or meta.get("classes") != list(
                CLASSES
            ):
                raise ValueError(f"{path.name}: trained for another feature version")
            weights = data["weights"].astype(np.float32) * data["scale"]
            platt = data["platt"]
            return cls(weights, data["bias"], (float(platt[0]), float(platt[1])), meta)


def load_classifier(path: Path | None = None) -> InjectionClassifier:
    """The shipped classifier (or the one at ``path``)."""
    if path is not None:
        return InjectionClassifier.load(path)
    resource = resources.files("companion.security.data").joinpath(MODEL_FILE)
    with resources.as_file(resource) as file:
        return InjectionClassifier.load(file)
