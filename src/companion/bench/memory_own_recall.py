"""Recall of a very large user's own HNSW index on real embeddings (not random vectors).

The 1M-row latency table holds random vectors, on which HNSW finds almost none of the
true nearest (recall@10 ~0.04): it cannot say what a user's own graph
(``memory.user_index``) loses on real memories. Here ``--texts`` sentences are made
from our own templates and words (chat-like lines about family, work, places, plans),
embedded with the local MiniLM, and each is stored ``--copies`` times with a little
Gaussian noise (σ ``--noise`` per dimension, as near-paraphrases), so one user holds
``texts × copies`` rows with the structure of real embeddings. The graph is built over
those rows alone with the search's parameters (m 16, ef_construction 64), exactly what
a user's own index holds, and for embedded template questions its top 10 is compared
with the exact top 10, per ``ef_search``.

Run: ``COMPANION_HOME=<scratch> python -m companion.bench.memory_own_recall``. Uses a
database of its own (``companion_bench_recall``) on the embedded server. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main", "sentences"]

_WHO = (
    "my sister", "my brother", "my mum", "my dad", "my grandma", "my neighbour", "my boss",
    "my best friend", "my partner", "my cousin", "the new colleague", "my daughter",
    "my son", "our landlord", "my old teacher", "the vet", "my flatmate", "my uncle",
)  # fmt: skip
_DID = (
    "visited", "talked about", "complained about", "planned", "cancelled", "booked",
    "fixed", "painted", "forgot", "loved", "hated", "recommended", "lost", "found",
    "cooked", "bought", "sold", "argued about", "laughed about", "dreamed about",
)  # fmt: skip
_WHAT = (
    "the dentist appointment", "a trip to Lisbon", "the garden shed", "the piano lessons",
    "a birthday party", "the broken bike", "a pottery class", "the wedding", "the job offer",
    "a marathon", "the new puppy", "the kitchen", "a sushi dinner", "the camping weekend",
    "the exam results", "a concert", "the car insurance", "a chess tournament",
    "the flat viewing", "the yoga retreat", "a night train to Berlin", "the school play",
    "the tax return", "a surprise visit", "the hospital visit", "the vegetable patch",
    "the old laptop", "a photography course", "the rent increase", "the football match",
)  # fmt: skip
_WHEN = (
    "last week", "on Sunday", "yesterday", "this morning", "in March", "after work",
    "before the holidays", "on my birthday", "during the storm", "at the weekend",
    "two years ago", "on the way home", "over dinner", "in the rain", "at midnight",
)  # fmt: skip
_FEEL = (
    "and it went well", "and I was nervous", "which made me laugh", "and I regret it",
    "and it was a disaster", "which surprised everyone", "and I felt proud",
    "but nobody came", "and it cost too much", "and we want to do it again", "",
)  # fmt: skip
_ASK = (
    "what did {who} say about {what}", "when did {who} mention {what}",
    "how did {what} go", "did {who} ever talk about {what}", "remind me about {what}",
    "what happened with {what} {when}", "who {did} {what}",
)  # fmt: skip


def sentences(n: int, *, seed: int) -> list[str]:
    """``n`` distinct memory-like lines from the templates above."""
    rng = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < n:
        line = (
            f"{rng.choice(_WHO).capitalize()} {rng.choice(_DID)} {rng.choice(_WHAT)} "
            f"{rng.choice(_WHEN)} {rng.choice(_FEEL)}"
        ).strip()
        out[line + "."] = None
    return list(out)


def _questions(n: int, *, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        rng.choice(_ASK).format(
            who=rng.choice(_WHO), what=rng.choice(_WHAT), when=rng.choice(_WHEN),
            did=rng.choice(_DID),
        )
        for _ in range(n)
    ]  # fmt: skip


def _vectors(texts: int, queries: int, keep: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """The sentences' and the questions' vectors (read from ``keep`` if it exists)."""
    from companion.llm.local_embedder import MiniLMEmbedder

    if keep is not None and keep.exists():
        kept = np.load(keep)
        return kept["base"], kept["asked"]
    embedder = MiniLMEmbedder()
    base = embedder.embed_sync(sentences(texts, seed=7))
    asked = embedder.embed_sync(_questions(queries, seed=8))
    if keep is not None:
        np.savez(keep, base=base, asked=asked)
    return base, asked


async def _measure(
    base: np.ndarray, asked: np.ndarray, copies: int, noise: float, embed_s: float
) -> dict[str, Any]:
    import asyncpg
    from pgvector.asyncpg import register_vector

    from companion.settings import load_settings
    from companion.store.embedded import EmbeddedPostgres

    database = "companion_bench_recall"
    server = EmbeddedPostgres(load_settings(None).core.companion_home)
    server.start()
    server.drop_database(database)
    server.create_database(database)
    texts = len(base)
    rng = np.random.default_rng(9)
    rows = np.repeat(base, copies, axis=0) + rng.normal(scale=noise, size=(texts * copies, 384))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    conn = await asyncpg.connect(server.url(database).replace("+asyncpg", "", 1))
    out: dict[str, Any] = {"rows": len(rows), "texts": texts, "copies": copies, "noise": noise,
                           "embed_s": round(embed_s, 1)}  # fmt: skip
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        await register_vector(conn)
        await conn.execute("CREATE TABLE r (id int PRIMARY KEY, v vector(384))")
        await conn.copy_records_to_table(
            "r",
            records=[(i, v.astype(np.float32)) for i, v in enumerate(rows)],
            columns=["id", "v"],
        )
        started = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '1GB'")
        await conn.execute(
            "CREATE INDEX ON r USING hnsw (v vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
        )
        out["index_s"] = round(time.perf_counter() - started, 1)
        # Exact answers from numpy (the rows are unit vectors: cosine = dot product).
        truth = [set(np.argsort(-(rows @ q))[:10].tolist()) for q in asked]
        out["ef_search"] = {}
        for ef in (40, 100):
            await conn.execute(f"SET hnsw.ef_search = {ef}")
            found, times = 0, []
            for q, exact in zip(asked, truth, strict=True):
                t0 = time.perf_counter()
                got = await conn.fetch(
                    "SELECT id FROM r ORDER BY v <=> $1 LIMIT 10", q.astype(np.float32)
                )
                times.append((time.perf_counter() - t0) * 1000)
                found += len({r["id"] for r in got} & exact)
            out["ef_search"][ef] = {
                "recall_at_10": round(found / (10 * len(asked)), 4),
                "p50_ms": round(statistics.median(times), 2),
            }
    finally:
        await conn.close()
        server.drop_database(database)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m companion.bench.memory_own_recall")
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--noise", type=float, default=0.03)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--keep", type=Path, default=None,
        help="an .npz file: the embeddings are read from it if it exists, else saved to it",
    )  # fmt: skip
    args = parser.parse_args(argv)
    started = time.perf_counter()
    base, asked = _vectors(args.texts, args.queries, args.keep)
    embed_s = time.perf_counter() - started
    result = asyncio.run(_measure(base, asked, args.copies, args.noise, embed_s))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
