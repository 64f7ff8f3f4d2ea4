"""Memory quality harness on LoCoMo-format data, beside dense and BM25 baselines.

Each sample's conversation is imported through the import path (``dia_id`` as the
external id) for a fresh user; each question is searched, and a result counts the
turns it cites (``source_external_ids``). Turn-level evidence recall@k is the share of
a question's evidence turns among those cited by the top k results, averaged per
category. The baselines rank the raw turns: cosine over the same embedder's vectors,
and Okapi BM25 (k1 = 1.2, b = 0.75) over lower-cased word tokens.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np

from companion.memory.importer import ImportMessage
from companion.memory.service import MemoryService

__all__ = ["KS", "bm25_rank", "locomo_messages", "run_quality"]

KS = (1, 5, 10, 20)
_TOKEN = re.compile(r"[a-z0-9]+")


def _session_time(raw: str) -> datetime:
    for fmt in ("%I:%M %p on %d %B, %Y", "%I:%M %p on %d %b, %Y"):
        try:
            return datetime.strptime(raw.strip(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"unrecognised session time {raw!r}")


def locomo_messages(conversation: dict[str, Any]) -> list[ImportMessage]:
    """A LoCoMo conversation as import messages (speaker A as ``user``, B as ``assistant``)."""
    messages = []
    numbers = sorted(
        int(m.group(1)) for key in conversation if (m := re.fullmatch(r"session_(\d+)", key))
    )
    for n in numbers:
        start = _session_time(conversation[f"session_{n}_date_time"])
        for i, turn in enumerate(conversation[f"session_{n}"]):
            role: Literal["user", "assistant"] = (
                "user" if turn["speaker"] == conversation["speaker_a"] else "assistant"
            )
            messages.append(
                ImportMessage(
                    turn["dia_id"],
                    role,
                    turn["speaker"],
                    turn["text"],
                    start + timedelta(seconds=30 * i),
                )
            )
    return messages


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def bm25_rank(docs: Sequence[str], query: str, *, k1: float = 1.2, b: float = 0.75) -> list[int]:
    """Indexes of ``docs`` by Okapi BM25 score for ``query``, best first."""
    tokenised = [_tokens(d) for d in docs]
    avg = sum(len(t) for t in tokenised) / max(1, len(tokenised))
    df = Counter(term for t in tokenised for term in set(t))
    n = len(docs)
    scores = []
    for tokens in tokenised:
        tf = Counter(tokens)
        score = 0.0
        for term in set(_tokens(query)):
            if term not in tf:
                continue
            idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            score += idf * tf[term] * (k1 + 1) / (tf[term] + k1 * (1 - b + b * len(tokens) / avg))
        scores.append(score)
    return sorted(range(n), key=lambda i: -scores[i])


def _recall(ranked_ids: Sequence[Sequence[str]], evidence: Sequence[str], k: int) -> float:
    cited = {i for ids in ranked_ids[:k] for i in ids}
    return sum(e in cited for e in evidence) / len(evidence)


class _Tally:
    def __init__(self) -> None:
        self.sums: dict[tuple[str, str, int], float] = defaultdict(float)
        self.counts: dict[str, int] = Counter()

    def add(
        self, system: str, category: str, ranked: Sequence[Sequence[str]], ev: Sequence[str]
    ) -> None:
        for cat in (category, "all"):
            if system == "companion":
                self.counts[cat] += 1
            for k in KS:
                self.sums[(system, cat, k)] += _recall(ranked, ev, k)

    def table(self) -> dict[str, dict[str, dict[str, float]]]:
        out: dict[str, dict[str, dict[str, float]]] = {}
        for (system, cat, k), total in sorted(self.sums.items()):
            out.setdefault(cat, {}).setdefault(system, {})[f"recall@{k}"] = round(
                total / self.counts[cat], 3
            )
        for cat, n in self.counts.items():
            out[cat]["questions"] = {"n": n}
        return out


async def run_quality(memory: MemoryService, path: Path) -> dict[str, Any]:
    """Import every sample, answer every question three ways, return the recall table."""
    samples = json.loads(await asyncio.to_thread(path.read_text))
    embedder = memory.retriever._embedder  # the same vectors for the dense baseline
    tally = _Tally()
    imported, import_seconds = 0, 0.0
    for sample in samples:
        user_id = f"bench:{sample.get('sample_id', 'x')}:{uuid.uuid4().hex[:6]}"
        messages = locomo_messages(sample["conversation"])
        started = time.perf_counter()
        await memory.import_history(user_id=user_id, conversation="locomo", messages=messages)
        import_seconds += time.perf_counter() - started
        imported += len(messages)
        texts = [f"{m.speaker}: {m.text}" for m in messages]
        ids = [m.external_id for m in messages]
        turn_vectors = (
            np.asarray(await embedder.embed(texts, task="document")) if embedder else None
        )
        for qa in sample["qa"]:
            evidence, category = qa["evidence"], str(qa["category"])
            hits = await memory.search(user_id=user_id, query=qa["question"], k=max(KS))
            tally.add("companion", category, [h.source_external_ids for h in hits], evidence)
            tally.add(
                "bm25",
                category,
                [[ids[i]] for i in bm25_rank(texts, qa["question"])[:20]],
                evidence,
            )
            if turn_vectors is not None and embedder is not None:
                (q,) = await embedder.embed([qa["question"]], task="query")
                order = np.argsort(-(turn_vectors @ np.asarray(q)))[: max(KS)]
                tally.add("dense", category, [[ids[i]] for i in order], evidence)
        await memory.delete_user(user_id=user_id)
    return {
        "samples": len(samples),
        "messages": imported,
        "import_msgs_per_s": round(imported / import_seconds, 1) if import_seconds else None,
        "recall": tally.table(),
    }
