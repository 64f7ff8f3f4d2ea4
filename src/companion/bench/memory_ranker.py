"""Fitting the search's learned ranker on LoCoMo-format data, leave-one-conversation-out.

Each conversation is imported through the service for a fresh user; each question's
candidates (both sides of the search and the second hop, before ranking) are gathered
once by the real retriever and kept in a cache file outside the repository. The
search's ranking is then replayed in Python on copies of those candidates, so a
variant costs seconds, not a re-import. The candidates are gathered with a wider pool
than the search uses; cutting them back to ``POOL`` per side gives the same candidates
the search would have fetched (each side is a top-n list).

What is fitted: the weights of ``companion.memory.learned`` (a logistic regression over
per-candidate numbers; no text of the data goes into them). The figure to trust is the
held-out one: for each conversation, the weights fitted on the others score it.
"""

from __future__ import annotations

import asyncio
import copy
import json
import pickle
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from companion.bench.memory_quality import KS, locomo_messages
from companion.memory import learned, retrieval
from companion.memory.search import Hit, SearchFilters
from companion.memory.service import MemoryService

__all__ = ["Question", "collect", "cut_pool", "evaluate", "fit_loco", "recall_at"]

#: The L2 penalty of the shipped fit, chosen by leave-one-conversation-out on the LoCoMo
#: dev set among 1, 10, 30, 100 and 300 (docs/BENCHMARKS.md).
L2 = 100.0
#: Candidates gathered per side for the cache (the search uses ``retrieval.POOL``).
WIDE_POOL = 300


@dataclass
class Question:
    """One question with its evidence and every candidate the search gathered for it."""

    conversation: str
    query: str
    category: str
    evidence: list[str]
    hits: list[Hit]
    now: datetime


async def collect(memory: MemoryService, path: Path, *, pool: int = WIDE_POOL) -> list[Question]:
    """Import each conversation, gather each question's candidates, delete the user."""
    samples = json.loads(await asyncio.to_thread(path.read_text))
    out: list[Question] = []
    saved = retrieval.POOL
    retrieval.POOL = pool
    try:
        for sample in samples:
            name = str(sample.get("sample_id", "x"))
            user_id = f"bench:ranker:{name}:{uuid.uuid4().hex[:6]}"
            messages = locomo_messages(sample["conversation"])
            await memory.import_history(user_id=user_id, conversation="locomo", messages=messages)
            for qa in sample["qa"]:
                if not qa.get("evidence") or str(qa.get("category")) == "5":
                    continue
                now = datetime.now(UTC)
                hits = await memory.retriever.gather(
                    user_id=user_id, query=qa["question"], filters=SearchFilters(), now=now
                )
                for hit in hits:
                    hit.vector = None
                out.append(
                    Question(name, qa["question"], str(qa["category"]), list(qa["evidence"]),
                             hits, now)
                )  # fmt: skip
            await memory.delete_user(user_id=user_id)
    finally:
        retrieval.POOL = saved
    return out


def cut_pool(hits: Sequence[Hit], pool: int) -> list[Hit]:
    """The candidates a search with ``pool`` per side would have fetched (copies)."""
    dense = sorted((h for h in hits if h.similarity is not None), key=lambda h: -h.similarity)  # type: ignore[operator]
    sparse = sorted((h for h in hits if h.text_rank is not None), key=lambda h: -h.text_rank)  # type: ignore[operator]
    keep_dense = {h.id for h in dense[:pool]}
    keep_sparse = {h.id for h in sparse[:pool]}
    out = []
    for hit in hits:
        if hit.id not in keep_dense and hit.id not in keep_sparse:
            continue
        copied = copy.copy(hit)
        copied.reasons = []
        copied.similarity = hit.similarity if hit.id in keep_dense else None
        copied.text_rank = hit.text_rank if hit.id in keep_sparse else None
        out.append(copied)
    return out


def recall_at(ranked: Sequence[Hit], evidence: Sequence[str], k: int) -> float:
    """Share of the evidence turns cited by the first ``k`` results."""
    cited = {i for hit in ranked[:k] for i in hit.source_external_ids}
    return sum(e in cited for e in evidence) / len(evidence)


Ranker = Callable[[list[Hit], Question], list[Hit]]


def rrf_ranker(hits: list[Hit], question: Question) -> list[Hit]:
    """The search's ranking by rank fusion and neighbour spread (no learned weights)."""
    saved, retrieval.RANKER = retrieval.RANKER, "rrf"
    try:
        return retrieval._rank(hits, query=question.query, now=question.now, k=max(KS))
    finally:
        retrieval.RANKER = saved


def evaluate(
    questions: Sequence[Question], ranker: Ranker = rrf_ranker, *, pool: int | None = None
) -> dict[str, dict[int, float]]:
    """Mean recall@k per category and overall ("all") for a ranking of the candidates."""
    sums: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, int] = defaultdict(int)
    for q in questions:
        ranked = ranker(cut_pool(q.hits, pool or retrieval.POOL), q)
        for cat in (q.category, "all"):
            counts[cat] += 1
            for k in KS:
                sums[cat][k] += recall_at(ranked, q.evidence, k)
    return {cat: {k: v / counts[cat] for k, v in ks.items()} for cat, ks in sums.items()}


def save(questions: Sequence[Question], path: Path) -> None:
    """Write the candidate cache (plain dicts, so it loads whichever module ran it)."""
    path.write_bytes(pickle.dumps([dict(vars(q)) for q in questions]))


def load(path: Path) -> list[Question]:
    """Read a cache ``save`` wrote (a local file of this harness, never user input)."""
    return [Question(**row) for row in pickle.loads(path.read_bytes())]


@dataclass
class Prepared:
    """A question's candidates cut to a pool, their feature rows and labels."""

    question: Question
    hits: list[Hit]
    x: np.ndarray
    y: np.ndarray


def prepare(questions: Sequence[Question], pool: int) -> list[Prepared]:
    """Features once per question (a fit and its evaluation reuse them)."""
    out = []
    for q in questions:
        hits = cut_pool(q.hits, pool)
        x = np.asarray(learned.features(hits, query=q.query, now=q.now), dtype=np.float64)
        evidence = set(q.evidence)
        y = np.asarray([1.0 if evidence & set(h.source_external_ids) else 0.0 for h in hits])
        out.append(Prepared(q, hits, x.reshape(len(hits), len(learned.FEATURES)), y))
    return out


Fitter = Callable[[Sequence[Prepared]], learned.Weights]


def logistic(l2: float = 1.0) -> Fitter:
    """Pointwise logistic regression over every candidate of the given questions."""

    def fit(prepared: Sequence[Prepared]) -> learned.Weights:
        x = np.vstack([p.x for p in prepared])
        y = np.concatenate([p.y for p in prepared])
        return learned.fit(x, y, l2=l2)

    return fit


def listwise(l2: float = 1.0) -> Fitter:
    """Softmax over each question's candidates (``learned.fit_listwise``)."""

    def fit(prepared: Sequence[Prepared]) -> learned.Weights:
        return learned.fit_listwise([(p.x, p.y) for p in prepared], l2=l2)

    return fit


def served(p: Prepared, weights: learned.Weights) -> list[Hit]:
    """The search's result for a prepared question under ``weights``."""
    hits = [copy.copy(h) for h in p.hits]
    relevance = list(learned.apply(p.x, weights))
    return retrieval.serve_learned(
        hits, relevance, query=p.question.query, now=p.question.now, k=max(KS)
    )


def fit_loco(
    prepared: Sequence[Prepared], fitter: Fitter
) -> tuple[learned.Weights, dict[str, dict[int, float]]]:
    """Weights fitted on every question, and the held-out recall by conversation.

    For each conversation, the weights fitted on the other conversations rank its
    questions; the recall figures are over those held-out rankings.
    """
    sums: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, int] = defaultdict(int)
    for name in sorted({p.question.conversation for p in prepared}):
        weights = fitter([p for p in prepared if p.question.conversation != name])
        for p in prepared:
            if p.question.conversation != name:
                continue
            ranked = served(p, weights)
            for cat in (p.question.category, "all"):
                counts[cat] += 1
                for k in KS:
                    sums[cat][k] += recall_at(ranked, p.question.evidence, k)
    table = {cat: {k: v / counts[cat] for k, v in ks.items()} for cat, ks in sums.items()}
    return fitter(prepared), table


def summary(table: dict[str, dict[int, float]]) -> str:
    return " ".join(
        f"{cat}:" + "/".join(f"{table[cat][k]:.3f}" for k in KS) for cat in sorted(table)
    )


async def _collect_main(data: Path, cache: Path) -> None:
    from companion.runtime import Runtime
    from companion.settings import load_settings

    runtime = await Runtime.start(load_settings(None))
    try:
        assert isinstance(runtime.memory, MemoryService)
        questions = await collect(runtime.memory, data)
    finally:
        await runtime.close()
    save(questions, cache)


def main(argv: Sequence[str] | None = None) -> Any:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m companion.bench.memory_ranker")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True, help="candidate cache (pickle)")
    parser.add_argument("--out", type=Path, default=None, help="write the fitted weights here")
    parser.add_argument("--l2", type=float, default=L2)
    args = parser.parse_args(argv)
    if not args.cache.exists():
        asyncio.run(_collect_main(args.data, args.cache))
    questions = load(args.cache)
    print("current ranking:", summary(evaluate(questions)))
    weights, held = fit_loco(prepare(questions, retrieval.POOL), listwise(args.l2))
    print("learned, held out by conversation:", summary(held))
    if args.out is not None:
        args.out.write_text(json.dumps(weights.to_json(), indent=1) + "\n")


if __name__ == "__main__":
    main()
