"""Pure ranking: OR-style full-text terms, score fusion, recency, MMR (no I/O).

Why these choices (the mem0 lesson): ``plainto_tsquery`` demands every
word, so most questions get no keyword hit; we OR the normalised terms instead. The
two scores live on different scales (cosine vs ``ts_rank_cd``), so each is normalised
over its own candidate list (cosine min-max, rank by its maximum) before the convex
combination.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

__all__ = [
    "DENSE_WEIGHT",
    "MMR_LAMBDA",
    "RECENCY_HALF_LIFE_DAYS",
    "Candidate",
    "fuse",
    "mmr",
    "or_tsquery",
    "recency",
    "rrf",
    "spread_to_neighbours",
    "weighted",
]

#: Reciprocal rank fusion's constant: 60 in the original paper. Chosen with the neighbour
#: share below by leave-one-conversation-out over the LoCoMo dev set (docs/BENCHMARKS.md):
#: a small k trusts each list's first places more.
RRF_K = 10
#: Share of a turn's score that flows to the turns said just before and after it. The
#: evidence of a question is often a pair (a question and its answer, a story told over
#: two lines); a neighbour of a strong hit is likely part of the same exchange.
NEIGHBOUR_SHARE = 0.5
#: Weight of the dense score in the fusion; the rest goes to full-text.
DENSE_WEIGHT = 0.6
#: MMR trade-off: 1 = relevance only, 0 = diversity only.
MMR_LAMBDA = 0.7
#: Recency halves every 30 days (DECISIONS.md#importance-heuristic): ``0.5 ** (age_days / 30)``.
RECENCY_HALF_LIFE_DAYS = 30.0

_Num = TypeVar("_Num", float, npt.NDArray[np.float64])

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Words that carry no topic: question words, pronouns, auxiliaries. Postgres drops
# its own English stop words too; these are the conversational ones it keeps.
_STOP = frozenset(
    """a an the and or but if of to in on at by for with from about as into over after
    before is are was were be been being am do does did doing have has had having i
    me my mine we us our you your he him his she her it its they them their what which
    who whom whose when where why how that this these those there here can could would
    should will shall may might must not no yes so than then too very just also any
    some all ever never s t don didn doesn isn wasn ve ll re d m tell know remember
    think say said like really get got""".split()
)


def or_tsquery(query: str) -> str | None:
    """A ``to_tsquery('english', …)`` string OR-ing the query's topic words.

    Returns None when no usable term remains (the caller skips full-text search).
    Only ``[a-z0-9]`` survive, so the result can never be a tsquery syntax error.
    """
    terms: list[str] = []
    for word in _WORD.findall(query.lower()):
        word = word.split("'")[0]
        if len(word) < 2 or word in _STOP or word in terms:
            continue
        terms.append(word)
    return " | ".join(terms) if terms else None


def _normalise(scores: Mapping[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low < 1e-9:
        return {key: 1.0 for key in scores}
    return {key: (value - low) / (high - low) for key, value in scores.items()}


def fuse(
    dense: Mapping[str, float],
    sparse: Mapping[str, float],
    *,
    dense_weight: float = DENSE_WEIGHT,
) -> dict[str, float]:
    """Combine cosine similarities and full-text ranks into one score in [0, 1].

    Args:
        dense: candidate id → cosine similarity.
        sparse: candidate id → ``ts_rank_cd`` (any positive scale).
        dense_weight: weight of the dense part; full-text gets the rest.

    Returns:
        id → fused score. A candidate found by one side only gets 0 from the other.
        With one side empty, the other side's normalised score is used alone.
    """
    if not sparse:
        dense_weight = 1.0
    elif not dense:
        dense_weight = 0.0
    d = _normalise(dense)
    # Full-text ranks have a natural zero (no match), so scale by the best one only:
    # min-max would squash the weakest keyword hit to nothing.
    top = max(sparse.values(), default=0.0)
    s = {key: value / top for key, value in sparse.items()} if top > 0 else {}
    # Keep some of the raw cosine so a lone weak dense candidate is not promoted to 1.
    d = {key: 0.7 * value + 0.3 * max(0.0, dense[key]) for key, value in d.items()}
    ids = set(d) | set(s)
    return {
        key: dense_weight * d.get(key, 0.0) + (1.0 - dense_weight) * s.get(key, 0.0) for key in ids
    }


def rrf(*rankings: Sequence[str], k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion: ``Σ 1 / (k + rank)`` over the lists that hold an id.

    Scale-free, so a BM25 score and a cosine never have to be put on one scale; the
    result is divided by its best possible value, ``n / (k + 1)``, to stay in [0, 1].
    """
    if not rankings:
        return {}
    scores: dict[str, float] = {}
    for ranking in rankings:
        for position, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + position)
    top = len(rankings) / (k + 1)
    return {key: value / top for key, value in scores.items()}


def spread_to_neighbours(
    scores: Mapping[str, float],
    positions: Mapping[str, int],
    *,
    turns: Collection[str] | None = None,
    share: float = NEIGHBOUR_SHARE,
) -> dict[str, float]:
    """Each candidate's score plus ``share`` of the best turn next to it.

    Args:
        scores: candidate id → score.
        positions: candidate id → the position of the turn it comes from (for stored
            memories, the source message id: a conversation's messages get increasing
            ids). Candidates without a position keep their score.
        turns: the ids that count as turns, whose scores are lent to their neighbours
            (default: every positioned candidate). A fact read from a turn shares that
            turn's position, so it gets the same lift and keeps its place beside it.
        share: how much of the neighbour's score is added.

    Only candidates already found take part (no extra query). The best neighbour counts,
    not the sum, so a filler line between two hits is not lifted twice; the added part
    comes from the original scores, so nothing snowballs along a run of turns.
    """
    lenders = positions.keys() if turns is None else set(turns) & positions.keys()
    best_at: dict[int, float] = {}
    for key in lenders:
        if key in scores:
            at = positions[key]
            best_at[at] = max(best_at.get(at, 0.0), scores[key])
    out = dict(scores)
    for key, at in positions.items():
        if key in out:
            out[key] += share * max(best_at.get(at - 1, 0.0), best_at.get(at + 1, 0.0))
    return out


def recency(age_days: float, *, half_life_days: float = RECENCY_HALF_LIFE_DAYS) -> float:
    """Exponential recency in (0, 1]: ``0.5 ** (age_days / half_life_days)``."""
    return math.pow(0.5, max(0.0, age_days) / half_life_days)


def weighted(relevance: _Num, *, importance: _Num, recency_score: _Num) -> _Num:
    """Relevance scaled by importance and recency (at most ±20 %, so relevance rules).

    Of one candidate (floats) or of every candidate at once (arrays, elementwise).
    """
    return relevance * (0.8 + 0.15 * importance + 0.05 * recency_score)


@dataclass(frozen=True)
class Candidate:
    """An item for MMR: its id, relevance and stored vector (DECISIONS.md#mmr-stored-vectors)."""

    id: str
    relevance: float
    vector: Sequence[float] | None


def mmr(candidates: Sequence[Candidate], *, k: int, lam: float = MMR_LAMBDA) -> list[str]:
    """Maximal Marginal Relevance selection.

    ``score = λ·relevance − (1−λ)·max cos(dᵢ, dⱼ∈S)``; the first pick is the most
    relevant; a missing or zero vector has similarity 0 to everything.

    Returns:
        The ids of at most ``k`` candidates, in selection order.
    """
    if not candidates or k <= 0:
        return []
    order = sorted(candidates, key=lambda c: c.relevance, reverse=True)
    if lam >= 1.0:  # relevance only: the same picks without comparing any vectors
        return [c.id for c in order[:k]]
    dims = next((len(c.vector) for c in order if c.vector is not None), 0)
    matrix = np.zeros((len(order), max(dims, 1)), dtype=np.float32)
    for row, cand in enumerate(order):
        if cand.vector is not None and len(cand.vector) == dims:
            vec = np.asarray(cand.vector, dtype=np.float32)
            norm = float(np.linalg.norm(vec))
            matrix[row] = vec / norm if norm > 0 else vec
    sims = matrix @ matrix.T
    relevance = np.array([c.relevance for c in order], dtype=np.float32)
    chosen = [0]
    max_sim = sims[0].copy()
    remaining = np.ones(len(order), dtype=bool)
    remaining[0] = False
    while len(chosen) < min(k, len(order)):
        scores = lam * relevance - (1.0 - lam) * max_sim
        scores[~remaining] = -np.inf
        best = int(np.argmax(scores))
        chosen.append(best)
        remaining[best] = False
        max_sim = np.maximum(max_sim, sims[best])
    return [order[i].id for i in chosen]
