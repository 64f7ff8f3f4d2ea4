"""The array-at-once ranking gives exactly what the per-candidate definitions give.

The references below are the earlier, one-candidate-at-a-time code of the learned
features and of the search's scoring (kept here only as the definition to compare
with). Every number must be equal, not close: the same features, scores, order,
reasons and merged sources on varied candidate sets.
"""

from __future__ import annotations

import copy
import math
import random
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from companion.memory import learned, ranking, retrieval
from companion.memory.dates import asks_about_now, is_temporal_query, query_window
from companion.memory.search import Hit

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
_WORDS = (
    "travel travelled traveling lisbon dog dogs puppy park parks garden run running "
    "runner guitar music sister 2023 art artist paint painting dinner x y go going "
    "hotdog skatepark bart untravelled x2023 dog-park"
).split()
QUERIES = [
    "When did Ana travel to Lisbon?",
    "What did Tom say about the dog and the park?",
    "Would Ana enjoy painting?",
    "is it likely that Tom plays guitar",
    "what happened yesterday",
    "what did we do last week in the garden",
    "Where does Ana run now?",  # a question about the present: rank fusion
    "hello",
    "the the of",  # no topic word
    "2023 art running",
]


def _reference_features(hits: Sequence[Hit], *, query: str) -> list[list[float]]:
    """``learned.features`` as it was written per candidate."""
    word, lower = re.compile(r"[A-Za-z][\w-]+"), re.compile(r"[a-z0-9]+")
    would_re = re.compile(r"(would|could|might|is it likely|does it seem)\b", re.IGNORECASE)

    def ranks(values: dict[int, float]) -> dict[int, int]:
        order = sorted(values, key=lambda i: -values[i])
        return {i: r for r, i in enumerate(order, start=1)}

    def coverage(terms: set[str], text: str) -> float:
        if not terms:
            return 0.0
        words = {w[:5] for w in lower.findall(text.lower())}
        return len(terms & words) / len(terms)

    dense = {i: h.similarity for i, h in enumerate(hits) if h.similarity is not None}
    sparse = {i: h.text_rank for i, h in enumerate(hits) if h.text_rank is not None}
    d_rank, s_rank = ranks(dense), ranks(sparse)
    best_sim = max(dense.values(), default=0.0)
    best_bm25 = max(sparse.values(), default=0.0) or 1.0
    miss_d, miss_s = 2.0 * max(len(dense), 1), 2.0 * max(len(sparse), 1)
    rrf_d = [11.0 / (10 + d_rank[i]) if i in d_rank else 0.0 for i in range(len(hits))]
    rrf_s = [11.0 / (10 + s_rank[i]) if i in s_rank else 0.0 for i in range(len(hits))]
    fused = [(a + b) / 2 for a, b in zip(rrf_d, rrf_s, strict=True)]
    sims = [dense.get(i, 0.0) for i in range(len(hits))]
    bm25 = [sparse.get(i, 0.0) / best_bm25 for i in range(len(hits))]
    at: dict[int, list[int]] = {}
    for i, hit in enumerate(hits):
        if len(hit.source_message_ids) == 1 and hit.memory_type == "episodic":
            at.setdefault(hit.source_message_ids[0], []).append(i)

    def best(position: int, gap: int, values: list[float]) -> float:
        found = [values[j] for p in (position - gap, position + gap) for j in at.get(p, ())]
        return max(found, default=0.0)

    terms = learned._stems(query)
    cover = [coverage(terms, h.content) for h in hits]
    would = would_re.match(query.strip()) is not None or "likely" in query.lower()
    temporal = is_temporal_query(query)
    named = {w.lower() for w in word.findall(query)}
    rows = []
    for i, hit in enumerate(hits):
        pos = hit.source_message_ids[0] if len(hit.source_message_ids) == 1 else None
        words = len(hit.content.split())
        rows.append([
            rrf_d[i], rrf_s[i], sims[i], sims[i] - best_sim if i in dense else -1.0, bm25[i],
            math.log(d_rank.get(i, miss_d)), math.log(s_rank.get(i, miss_s)),
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
            sims[i] if temporal else 0.0, bm25[i] if temporal else 0.0,
            cover[i], best(pos, 1, cover) if pos is not None else 0.0,
            hit.importance, sims[i] if would else 0.0,
        ])  # fmt: skip
    return rows


def _ref_fusion_scores(hits: list[Hit], *, query: str, now: datetime, spread: bool) -> None:
    dense = {str(h.id): h.similarity for h in hits if h.similarity is not None}
    sparse = {str(h.id): h.text_rank for h in hits if h.text_rank is not None}
    lists = [sorted(side, key=lambda i: -side[i]) for side in (dense, sparse) if side]
    fused = ranking.rrf(*lists)
    temporal = is_temporal_query(query)
    window = query_window(query, now)
    for hit in hits:
        age_days = (now - hit.created_at).total_seconds() / 86400
        hit.score = ranking.weighted(
            fused.get(str(hit.id), 0.0),
            importance=hit.importance,
            recency_score=ranking.recency(age_days),
        )
        hit.reasons = [
            f"similarity {hit.similarity:.2f}" if hit.similarity is not None else "",
            "keyword match" if hit.text_rank is not None else "",
            f"importance {hit.importance:.2f}",
        ]
        if temporal and hit.event_at is not None:
            hit.score *= 1.15
            hit.reasons.append("dated")
        when = hit.event_at or hit.created_at
        if window is not None and window[0] <= when < window[1]:
            hit.score *= 1.3
            hit.reasons.append("in the asked time window")
        hit.reasons = [r for r in hit.reasons if r]
    if not spread:
        return
    positions = {str(h.id): h.source_message_ids[0] for h in hits if len(h.source_message_ids) == 1}
    if len(positions) < 2:
        return
    turns = {str(h.id) for h in hits if h.memory_type == "episodic"}
    lifted = ranking.spread_to_neighbours(
        {str(h.id): h.score for h in hits}, positions, turns=turns
    )
    for hit in hits:
        if lifted[str(hit.id)] > hit.score:
            hit.score = lifted[str(hit.id)]
            hit.reasons.append("next to a strong match")


def _ref_serve_learned(
    hits: list[Hit], relevance: Sequence[float], *, query: str, now: datetime, k: int
) -> list[Hit]:
    blend = retrieval.FUSION_BLEND
    blended = blend > 0 and bool(hits)
    if blended:
        _ref_fusion_scores(hits, query=query, now=now, spread=True)
        best = max(h.score for h in hits) or 1.0
        relevance = [
            value + blend * math.log(max(h.score / best, 1e-6))
            for h, value in zip(hits, relevance, strict=True)
        ]
    top = max(relevance, default=0.0)
    window = query_window(query, now)
    for hit, value in zip(hits, relevance, strict=True):
        age_days = (now - hit.created_at).total_seconds() / 86400
        hit.score = ranking.weighted(
            math.exp(value - top), importance=hit.importance,
            recency_score=ranking.recency(age_days),
        )  # fmt: skip
        hit.reasons.append(f"learned score {value:.2f}")
        when = hit.event_at or hit.created_at
        if window is not None and window[0] <= when < window[1]:
            hit.score *= 1.3
            if "in the asked time window" not in hit.reasons:
                hit.reasons.append("in the asked time window")
        hit.reasons = [r for r in hit.reasons if r]
    turns: dict[tuple[str, ...], float] = {}
    for hit in hits:
        key = retrieval._source_key(hit)
        if hit.memory_type == "episodic" and key:
            turns[key] = max(turns.get(key, 0.0), hit.score)
    for hit in hits:
        key = retrieval._source_key(hit)
        best_turn = turns.get(key, 0.0) if hit.memory_type == "semantic" else 0.0
        if best_turn >= hit.score:
            hit.score = best_turn * 1.001
            hit.reasons.append("as strong as the turn it was read from")
    return _ref_finish(hits, k=k)


def _ref_finish(hits: list[Hit], *, k: int) -> list[Hit]:
    hits = retrieval._one_per_source(retrieval._dedupe(hits))
    by_id = {str(h.id): h for h in hits}
    chosen = ranking.mmr(
        [ranking.Candidate(str(h.id), h.score, h.vector) for h in hits], k=k, lam=1.0
    )
    return [by_id[i] for i in chosen]


def _ref_rank(hits: list[Hit], *, query: str, now: datetime, k: int, spread: bool) -> list[Hit]:
    weights = learned.load_weights()
    assert weights is not None
    if spread and not asks_about_now(query):
        x = np.asarray(_reference_features(hits, query=query))
        relevance = list(learned.apply(x, weights))
        return _ref_serve_learned(hits, relevance, query=query, now=now, k=k)
    _ref_fusion_scores(hits, query=query, now=now, spread=spread)
    return _ref_finish(hits, k=k)


def _candidates(seed: int, n: int) -> list[Hit]:
    """Varied candidates: ties, negative cosines, one side or both, facts beside their
    turns, several sources or none, repeated texts, dates inside and outside windows."""
    rng = random.Random(seed)
    tie = [0.5, 0.25, 0.125]
    out = []
    for _ in range(n):
        sources = rng.choice([[], [rng.randint(1, 40)], [rng.randint(1, 40)] * 1,
                              [rng.randint(1, 40), rng.randint(1, 40)]])  # fmt: skip
        side = rng.random()
        sim = rng.choice([rng.uniform(-0.3, 0.95), rng.choice(tie)]) if side < 0.7 else None
        bm25 = rng.choice([rng.uniform(0.0, 9.0), 2.0]) if side > 0.4 or sim is None else None
        text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 30)))
        text = rng.choice(["", "Ana: ", "TOM: "]) + text + rng.choice(["", "?", " ? ", "!"])
        if rng.random() < 0.1 and out:
            text = out[-1].content.upper()  # the same text again, said elsewhere
        out.append(
            Hit(
                id=uuid.UUID(int=rng.getrandbits(128)), content=text,
                memory_type="semantic" if rng.random() < 0.25 else "episodic",
                importance=rng.choice([0.0, 0.5, rng.random()]),
                created_at=NOW - timedelta(days=rng.uniform(0, 500)), valid_from=None,
                invalid_at=None,
                event_at=NOW - timedelta(days=rng.uniform(0, 10)) if rng.random() < 0.3 else None,
                source_message_ids=list(sources),
                source_external_ids=[f"m{s}" for s in sources] if rng.random() < 0.5 else [],
                speaker=rng.choice(["Ana", "Tom", "", None]), document_id=None, vector=None,
                similarity=sim, text_rank=bm25,
            )
        )  # fmt: skip
    return out


def _same(a: list[Hit], b: list[Hit]) -> None:
    assert [h.id for h in a] == [h.id for h in b]
    assert [h.score for h in a] == [h.score for h in b]
    assert [h.reasons for h in a] == [h.reasons for h in b]
    assert [h.source_message_ids for h in a] == [h.source_message_ids for h in b]
    assert [h.source_external_ids for h in a] == [h.source_external_ids for h in b]


@pytest.mark.parametrize("seed", range(12))
def test_features_equal_the_per_candidate_definition(seed: int) -> None:
    for n in (0, 1, 2, 7, 60, 230):
        hits = _candidates(seed * 1000 + n, n)
        for query in QUERIES:
            expected = np.asarray(_reference_features(hits, query=query), dtype=np.float64)
            got = learned.features(hits, query=query, now=NOW)
            assert got.shape == (n, len(learned.FEATURES))
            assert np.array_equal(got, expected.reshape(got.shape)), query


@pytest.mark.parametrize("seed", range(6))
def test_the_search_ranks_exactly_as_the_per_candidate_code(seed: int) -> None:
    for n in (1, 2, 9, 80, 230):
        hits = _candidates(seed * 7919 + n, n)
        for query in QUERIES:
            for k, spread in ((10, True), (5, False), (50, True)):
                mine, theirs = copy.deepcopy(hits), copy.deepcopy(hits)
                got = retrieval._rank(mine, query=query, now=NOW, k=k, spread=spread)
                _same(got, _ref_rank(theirs, query=query, now=NOW, k=k, spread=spread))


def test_serving_given_relevance_matches_too() -> None:
    rng = random.Random(5)
    for seed in range(20):
        hits = _candidates(seed, 40)
        relevance = [rng.choice([rng.uniform(-5, 5), 1.0, -800.0]) for _ in hits]
        for query in QUERIES[:6]:
            mine, theirs = copy.deepcopy(hits), copy.deepcopy(hits)
            got = retrieval.serve_learned(mine, relevance, query=query, now=NOW, k=10)
            _same(got, _ref_serve_learned(theirs, relevance, query=query, now=NOW, k=10))
