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
    "neighbour_best",
    "ranks",
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


_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _coverages(terms: set[str], texts: Sequence[str]) -> list[float]:
    """The share of ``terms`` (stems) that each text holds, by the stems of its words.

    A word is a run of ``[a-z0-9]`` in the lowered text (``_LOWER``); its stem equals a
    term of five letters when the word starts with it, and a shorter term when the word
    is that term. So each term is looked up with ``str.find`` and its neighbouring
    characters checked, instead of cutting every word of every text to its stem.
    """
    if not terms:
        return [0.0] * len(texts)
    n, out = len(terms), []
    for text in texts:
        low, found = text.lower(), 0
        for term in terms:
            start = low.find(term)
            while start >= 0:
                end = start + len(term)
                if (start == 0 or low[start - 1] not in _ALNUM) and (
                    len(term) >= 5 or end == len(low) or low[end] not in _ALNUM
                ):
                    found += 1
                    break
                start = low.find(term, start + 1)
        out.append(found / n)
    return out


#: ``math.log`` of 0 … 4095 (0 at 0, never read): ranks and word counts are small
#: integers; numpy's own logarithm may differ from ``math.log`` in the last bit.
_LOGS = np.array([0.0] + [math.log(i) for i in range(1, 4096)])


def _log_ints(values: np.ndarray) -> np.ndarray:
    """``math.log`` of positive integers (as int64), from the table where it reaches."""
    if len(values) == 0 or int(values.max()) < len(_LOGS):
        return np.asarray(_LOGS[values])
    return np.array([math.log(int(v)) for v in values])


def ranks(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """1 for the highest present value, 2 for the next …; 0 where absent. Ties keep
    the candidates' order (as a stable sort by the negated value does)."""
    ranks = np.zeros(len(values), dtype=np.int64)
    idx = np.flatnonzero(present)
    order = idx[np.argsort(-values[idx], kind="stable")]
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def neighbour_best(
    positions: np.ndarray, placed: np.ndarray, turns: np.ndarray, gap: int, values: np.ndarray
) -> np.ndarray:
    """For each candidate, the highest of ``values`` among the turns said ``gap`` turns
    before or after it (0 when there is none, or the candidate has no position).

    ``positions`` are source message ids, meaningful where ``placed``; ``turns`` marks
    the candidates that lend their values; ``values`` is n × c, one column per clue.
    The turns are grouped by position (a sort), so no candidate is compared with every
    other.
    """
    out = np.zeros(values.shape)
    lenders = np.flatnonzero(turns)
    if lenders.size == 0:
        return out
    order = lenders[np.argsort(positions[lenders], kind="stable")]
    at = positions[order]
    starts = np.flatnonzero(np.r_[True, at[1:] != at[:-1]])
    where, most = at[starts], np.maximum.reduceat(values[order], starts, axis=0)
    best = np.full(values.shape, -np.inf)
    found = np.zeros(len(positions), dtype=bool)
    for target in (positions - gap, positions + gap):
        j = np.minimum(np.searchsorted(where, target), len(where) - 1)
        there = placed & (where[j] == target)
        best = np.where(there[:, None], np.maximum(best, most[j]), best)
        found |= there
    return np.where(found[:, None], best, out)


def features(hits: Sequence[Hit], *, query: str, now: datetime) -> np.ndarray:
    """One row of ``FEATURES`` per candidate, in the order of ``hits`` (an n × 23 array).

    Computed column by column over every candidate at once; the numbers are those of
    the per-candidate definitions in ``FEATURES`` exactly (a test compares them).
    """
    n = len(hits)
    x = np.zeros((n, len(FEATURES)))
    if n == 0:
        return x
    has_d = np.fromiter((h.similarity is not None for h in hits), dtype=bool, count=n)
    has_s = np.fromiter((h.text_rank is not None for h in hits), dtype=bool, count=n)
    sims = np.fromiter(
        (h.similarity if h.similarity is not None else 0.0 for h in hits), dtype=np.float64, count=n
    )
    raw_bm25 = np.fromiter(
        (h.text_rank if h.text_rank is not None else 0.0 for h in hits), dtype=np.float64, count=n
    )
    n_dense, n_sparse = int(has_d.sum()), int(has_s.sum())
    d_rank, s_rank = ranks(sims, has_d), ranks(raw_bm25, has_s)
    best_sim = float(sims[has_d].max()) if n_dense else 0.0
    best_bm25 = (float(raw_bm25[has_s].max()) if n_sparse else 0.0) or 1.0
    rrf_d = np.where(has_d, 11.0 / (10 + d_rank), 0.0)
    rrf_s = np.where(has_s, 11.0 / (10 + s_rank), 0.0)
    fused = (rrf_d + rrf_s) / 2
    bm25 = raw_bm25 / best_bm25
    # Turns by position (source message id): the neighbours' clues.
    placed = np.fromiter((len(h.source_message_ids) == 1 for h in hits), dtype=bool, count=n)
    positions = np.fromiter(
        (h.source_message_ids[0] if len(h.source_message_ids) == 1 else 0 for h in hits),
        dtype=np.int64, count=n,
    )  # fmt: skip
    facts = np.fromiter((h.memory_type == "semantic" for h in hits), dtype=bool, count=n)
    lenders = placed & np.fromiter((h.memory_type == "episodic" for h in hits), bool, count=n)
    cover = np.array(_coverages(_stems(query), [h.content for h in hits]))
    would = _WOULD.match(query.strip()) is not None or "likely" in query.lower()
    temporal = is_temporal_query(query)
    named = {w.lower() for w in _WORD.findall(query)}
    words = np.fromiter((1 + len(h.content.split()) for h in hits), dtype=np.int64, count=n)
    x[:, 0], x[:, 1], x[:, 2] = rrf_d, rrf_s, sims
    x[:, 3] = np.where(has_d, sims - best_sim, -1.0)
    x[:, 4] = bm25
    # A side that missed the candidate puts it at twice its list's length.
    x[:, 5] = _log_ints(np.where(has_d, d_rank, 2 * max(n_dense, 1)))
    x[:, 6] = _log_ints(np.where(has_s, s_rank, 2 * max(n_sparse, 1)))
    x[:, 7] = has_d & has_s
    near = neighbour_best(
        positions, placed, lenders, 1, np.column_stack([fused, sims, bm25, cover])
    )
    x[:, 8], x[:, 9], x[:, 10], x[:, 20] = near.T
    x[:, 11] = neighbour_best(positions, placed, lenders, 2, fused[:, None])[:, 0]
    x[:, 12] = [1.0 if h.speaker and h.speaker.lower() in named else 0.0 for h in hits]
    if temporal:
        x[:, 13] = [1.0 if h.event_at is not None else 0.0 for h in hits]
        x[:, 17], x[:, 18] = sims, bm25
    x[:, 14] = facts
    x[:, 15] = _log_ints(words)
    x[:, 16] = [1.0 if h.content.rstrip().endswith("?") else 0.0 for h in hits]
    x[:, 19] = cover
    x[:, 21] = [h.importance for h in hits]
    if would:
        x[:, 22] = sims
    return x


def scores(hits: Sequence[Hit], *, query: str, now: datetime, weights: Weights) -> list[float]:
    """The learned score of each candidate (higher is better), in the order of ``hits``."""
    if not hits:
        return []
    return list(apply(features(hits, query=query, now=now), weights))


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
