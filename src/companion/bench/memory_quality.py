"""Memory quality harness on LoCoMo-format data, beside dense, BM25 and RRF baselines.

Each sample's conversation is imported through ``POST /api/memory/import`` (``dia_id``
as the external id) for a fresh user; each question goes through
``POST /api/memory/search``, and a result counts the turns it cites
(``source_message_ids``). Turn-level evidence recall@k is the share of a question's
evidence turns among those cited by the top k results, averaged per category. The
baselines rank the raw turns: cosine over the same embedder's vectors (``dense``),
Okapi BM25 (k1 = 1.2, b = 0.75) over lower-cased word tokens (``bm25``), the same
over "session date + previous turn + turn" (``bm25_ctx``), and reciprocal rank
fusion (k = 60) of dense with each (``rrf``, ``rrf_ctx``).
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
from typing import Any, Literal, Protocol

import numpy as np

from companion.bench.measure import percentile
from companion.memory.importer import ImportMessage
from companion.memory.service import MemoryService

__all__ = ["KS", "SYSTEMS", "bm25_rank", "locomo_contexts", "locomo_messages", "run_quality"]

SYSTEMS = ("companion", "dense", "bm25", "bm25_ctx", "rrf", "rrf_ctx")

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


def locomo_contexts(conversation: dict[str, Any]) -> list[str]:
    """Each turn as "session date + previous turn + turn" (the context baseline's text)."""
    out = []
    numbers = sorted(
        int(m.group(1)) for key in conversation if (m := re.fullmatch(r"session_(\d+)", key))
    )
    for n in numbers:
        date = conversation[f"session_{n}_date_time"]
        previous = ""
        for turn in conversation[f"session_{n}"]:
            line = f"{turn['speaker']}: {turn['text']}"
            out.append(f"{date} {previous} {line}")
            previous = line
    return out


def _rrf(*orders: Sequence[int], k: int = 60) -> list[int]:
    scores: dict[int, float] = defaultdict(float)
    for order in orders:
        for rank, index in enumerate(order[:100], start=1):
            scores[index] += 1.0 / (k + rank)
    return sorted(scores, key=lambda i: -scores[i])


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


class SearchClient(Protocol):
    """The two public calls the harness makes (HTTP in the bench, in-process in tests)."""

    async def import_messages(
        self, user_id: str, conversation: str, messages: Sequence[ImportMessage]
    ) -> None: ...

    async def search(self, user_id: str, query: str, k: int) -> list[list[str]]: ...


async def run_quality(memory: MemoryService, path: Path, client: SearchClient) -> dict[str, Any]:
    """Import every sample, answer every question with ours and the baselines."""
    samples = json.loads(await asyncio.to_thread(path.read_text))
    embedder = memory.retriever._embedder  # the same vectors for the dense baseline
    tally = _Tally()
    imported, import_seconds, latencies = 0, 0.0, []
    for sample in samples:
        user_id = f"bench:{sample.get('sample_id', 'x')}:{uuid.uuid4().hex[:6]}"
        messages = locomo_messages(sample["conversation"])
        started = time.perf_counter()
        await client.import_messages(user_id, "locomo", messages)
        import_seconds += time.perf_counter() - started
        imported += len(messages)
        texts = [f"{m.speaker}: {m.text}" for m in messages]
        contexts = locomo_contexts(sample["conversation"])
        ids = [m.external_id for m in messages]
        turn_vectors = (
            np.asarray(await embedder.embed(texts, task="document")) if embedder else None
        )
        for qa in sample["qa"]:
            if not qa.get("evidence") or str(qa.get("category")) == "5":
                continue  # LoCoMo's category 5 is adversarial: nothing to find
            evidence, category = qa["evidence"], str(qa["category"])
            started = time.perf_counter()
            cited = await client.search(user_id, qa["question"], max(KS))
            latencies.append(time.perf_counter() - started)
            tally.add("companion", category, cited, evidence)
            bm25 = bm25_rank(texts, qa["question"])
            bm25_ctx = bm25_rank(contexts, qa["question"])
            orders = {"bm25": bm25, "bm25_ctx": bm25_ctx}
            if turn_vectors is not None and embedder is not None:
                (q,) = await embedder.embed([qa["question"]], task="query")
                dense = [int(i) for i in np.argsort(-(turn_vectors @ np.asarray(q)))]
                orders |= {
                    "dense": dense, "rrf": _rrf(dense, bm25), "rrf_ctx": _rrf(dense, bm25_ctx)
                }  # fmt: skip
            for system, order in orders.items():
                tally.add(system, category, [[ids[i]] for i in order[: max(KS)]], evidence)
        await memory.delete_user(user_id=user_id)
    return {
        "samples": len(samples),
        "messages": imported,
        "import_msgs_per_s": round(imported / import_seconds, 1) if import_seconds else None,
        "search_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "search_p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "recall": tally.table(),
    }
