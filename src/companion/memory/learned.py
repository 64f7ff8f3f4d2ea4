"""A learned ranking of search candidates: a logistic regression over per-candidate numbers.

Rank fusion gives each side's list a fixed say; which clues matter more (a close
vector, a rare word in the turn itself, a strong neighbour, a dated turn for a "when"
question) is better learned from questions whose evidence is known. Each candidate is
described by a few numbers (``FEATURES``); the score is the weighted sum of their
standardised values. The weights are fitted offline (``companion.bench.memory_ranker``)
and shipped as a small JSON file of numbers (``ranker_weights.json``); no text of the
data they were fitted on goes into them. Pure: no I/O beyond reading that file once.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from companion.memory import ranking
from companion.memory.dates import is_temporal_query
from companion.memory.search import Hit

__all__ = [
    "FEATURES",
    "Weights",
    "apply",
    "features",
    "fit",
    "fit_listwise",
    "load_weights",
    "scores",
]

WEIGHTS_FILE = Path(__file__).with_name("ranker_weights.json")

#: What describes a candidate, in the order of a feature row.
FEATURES = (
    "dense_rrf",  # 11 / (10 + rank) on the dense side, 0 when that side missed it
    "sparse_rrf",  # the same on the BM25 side
    "similarity",  # cosine to the question (0 when the dense side missed it)
    "similarity_gap",  # cosine minus the best cosine among the candidates
    "bm25",  # BM25 over the best BM25 among the candidates (0 when missed)
    "log_dense_rank",  # log of the dense rank (missing: twice the list's length)
    "log_sparse_rank",
    "both_sides",  # found by both sides
    "neighbour_rrf",  # the best fused score of the turn said just before or after
    "neighbour_similarity",
    "neighbour_bm25",
    "second_neighbour_rrf",  # the same two turns away
    "speaker_named",  # the question names the turn's speaker
    "dated_for_when",  # a "when" question and the memory carries a date
    "fact",  # a fact read from a turn rather than a turn
    "log_words",  # log of the memory's length in words
    "question_turn",  # the memory is itself a question
    "when_x_similarity",  # interactions with the question's kind
    "when_x_bm25",
    "coverage",  # share of the question's topic words the memory holds (by their stems)
    "neighbour_coverage",  # the same, best of the turns just before and after
    "importance",  # the memory's stored importance (rule or model)
    "would_x_similarity",  # a "would / could / likely" question (inference) × cosine
)


@dataclass(frozen=True)
class Weights:
    """Standardisation and the linear weights (``score = w · (x − mean) / scale + bias``)."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    bias: float

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.names),
            "mean": [round(v, 6) for v in self.mean],
            "scale": [round(v, 6) for v in self.scale],
            "coef": [round(v, 6) for v in self.coef],
            "bias": round(self.bias, 6),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Weights:
        names = tuple(str(n) for n in data["features"])
        if names != FEATURES:
            raise ValueError("the weights were fitted for other features")
        return cls(
            names,
            tuple(float(v) for v in data["mean"]),
            tuple(float(v) for v in data["scale"]),
            tuple(float(v) for v in data["coef"]),
            float(data["bias"]),
        )


@lru_cache(maxsize=1)
def load_weights(path: Path = WEIGHTS_FILE) -> Weights | None:
    """The shipped weights, or None when the file is missing or for other features."""
    try:
        return Weights.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


_WORD = re.compile(r"[A-Za-z][\w-]+")
_LOWER = re.compile(r"[a-z0-9]+")


_WOULD = re.compile(r"(would|could|might|is it likely|does it seem)\b", re.IGNORECASE)


def _stem(word: str) -> str:
    """A crude stem: the first five letters (``travel``, ``travelled``, ``traveling``)."""
    return word[:5]


def _stems(query: str) -> set[str]:
    terms = ranking.or_tsquery(query)
    return {_stem(t) for t in terms.split(" | ")} if terms else set()


def _coverage(terms: set[str], text: str) -> float:
    if not terms:
        return 0.0
    words = {_stem(w) for w in _LOWER.findall(text.lower())}
    return len(terms & words) / len(terms)


def _ranks(values: dict[int, float]) -> dict[int, int]:
    order = sorted(values, key=lambda i: -values[i])
    return {i: r for r, i in enumerate(order, start=1)}


def features(hits: Sequence[Hit], *, query: str, now: datetime) -> list[list[float]]:
    """One row of ``FEATURES`` per candidate, in the order of ``hits``."""
    dense = {i: h.similarity for i, h in enumerate(hits) if h.similarity is not None}
    sparse = {i: h.text_rank for i, h in enumerate(hits) if h.text_rank is not None}
    d_rank, s_rank = _ranks(dense), _ranks(sparse)
    best_sim = max(dense.values(), default=0.0)
    best_bm25 = max(sparse.values(), default=0.0) or 1.0
    miss_d, miss_s = 2.0 * max(len(dense), 1), 2.0 * max(len(sparse), 1)
    rrf_d = [11.0 / (10 + d_rank[i]) if i in d_rank else 0.0 for i in range(len(hits))]
    rrf_s = [11.0 / (10 + s_rank[i]) if i in s_rank else 0.0 for i in range(len(hits))]
    fused = [(a + b) / 2 for a, b in zip(rrf_d, rrf_s, strict=True)]
    sims = [dense.get(i, 0.0) for i in range(len(hits))]
    bm25 = [sparse.get(i, 0.0) / best_bm25 for i in range(len(hits))]
    # Turns by position (source message id): the neighbours' clues.
    at: dict[int, list[int]] = {}
    for i, hit in enumerate(hits):
        if len(hit.source_message_ids) == 1 and hit.memory_type == "episodic":
            at.setdefault(hit.source_message_ids[0], []).append(i)

    def best(position: int, gap: int, values: list[float]) -> float:
        found = [values[j] for p in (position - gap, position + gap) for j in at.get(p, ())]
        return max(found, default=0.0)

    terms = _stems(query)
    cover = [_coverage(terms, h.content) for h in hits]
    would = _WOULD.match(query.strip()) is not None or "likely" in query.lower()
    temporal = is_temporal_query(query)
    named = {w.lower() for w in _WORD.findall(query)}
    rows = []
    for i, hit in enumerate(hits):
        pos = hit.source_message_ids[0] if len(hit.source_message_ids) == 1 else None
        words = len(hit.content.split())
        row = [
            rrf_d[i],
            rrf_s[i],
            sims[i],
            sims[i] - best_sim if i in dense else -1.0,
            bm25[i],
            math.log(d_rank.get(i, miss_d)),
            math.log(s_rank.get(i, miss_s)),
            1.0 if i in dense and i in sparse else 0.0,
            best(pos, 1, fused) if pos is not None else 0.0,
            best(pos, 1, sims) if pos is not None else 0.0,
            best(pos, 1, bm25) if pos is not None else 0.0,
            best(pos, 2, fused) if pos is not None else 0.0,
            1.0 if hit.speaker and hit.speaker.lower() in named else 0.0,
            1.0 if temporal and hit.event_at is not None else 0.0,
            1.0 if hit.memory_type == "semantic" else 0.0,
            math.log(1 + words),
            1.0 if hit.content.rstrip().endswith("?") else 0.0,
            sims[i] if temporal else 0.0,
            bm25[i] if temporal else 0.0,
            cover[i],
            best(pos, 1, cover) if pos is not None else 0.0,
            hit.importance,
            sims[i] if would else 0.0,
        ]
        rows.append(row)
    return rows


def scores(hits: Sequence[Hit], *, query: str, now: datetime, weights: Weights) -> list[float]:
    """The learned score of each candidate (higher is better), in the order of ``hits``."""
    if not hits:
        return []
    return list(apply(np.asarray(features(hits, query=query, now=now)), weights))


def apply(x: np.ndarray, weights: Weights) -> np.ndarray:
    """The learned score of each feature row."""
    z = (x - np.asarray(weights.mean)) / np.asarray(weights.scale)
    return np.asarray(z @ np.asarray(weights.coef) + weights.bias, dtype=np.float64)


def fit(x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, steps: int = 30) -> Weights:
    """Logistic regression by Newton's method on standardised features, L2-penalised."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not penalised
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        grad = z.T @ (p - y) + penalty * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-6:
            break
    return Weights(FEATURES, tuple(mean), tuple(scale), tuple(w[:-1]), float(w[-1]))


def fit_listwise(lists: Sequence[tuple[np.ndarray, np.ndarray]], *, l2: float = 1.0) -> Weights:
    """Weights that put each question's evidence first among its own candidates.

    ``lists`` holds one (feature rows, labels) pair per question. The loss is the
    softmax cross-entropy of each evidence candidate against all candidates of its
    question (ListNet with one-hot targets), L2-penalised, minimised by L-BFGS. Unlike
    the pointwise fit, it only compares candidates of the same question, which is
    what a ranking needs.
    """
    from scipy.optimize import minimize

    lists = [(x, y) for x, y in lists if len(x) and y.sum() > 0]
    stacked = np.vstack([x for x, _ in lists])
    mean = stacked.mean(axis=0)
    scale = stacked.std(axis=0)
    scale[scale < 1e-9] = 1.0
    zs = [((x - mean) / scale, y / y.sum()) for x, y in lists]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * l2 * float(w @ w), l2 * w
        for z, target in zs:
            s = z @ w
            s -= s.max()
            p = np.exp(s)
            p /= p.sum()
            total -= float(target @ np.log(p + 1e-300))
            grad = grad + z.T @ (p - target)
        return total, grad

    result = minimize(loss, np.zeros(stacked.shape[1]), jac=True, method="L-BFGS-B")
    w = result.x
    return Weights(FEATURES, tuple(mean), tuple(scale), tuple(w), 0.0)
