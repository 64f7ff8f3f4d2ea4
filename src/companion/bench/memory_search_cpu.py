"""Where one memory search spends its CPU: query embedding, candidate statement, ranking.

Runs on the scratch table that ``companion bench memory --latency`` builds and keeps
(the same ``COMPANION_HOME``), on never-seen queries (a new seed each run), one search
at a time. Per stage it reports this process's CPU time (``time.process_time``: the
embedder's threads included) and wall time, and PostgreSQL's CPU for the candidate
statement (all of the embedded server's processes over the run, per search, so keep
other work off it). CPU
figures depend little on what else runs on the machine; wall times do.

Run: ``COMPANION_HOME=<the bench home> python -m companion.bench.memory_search_cpu
--user lat:medium --queries 60``. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = ["main"]


async def _measure(user: str, queries: int, warmup: int) -> dict[str, Any]:
    from companion.bench.gateway import postgres_cpu_seconds
    from companion.bench.memory import SCRATCH_DB
    from companion.bench.memory_latency import fresh_queries
    from companion.memory import MemoryService, ranking, retrieval
    from companion.memory.search import SearchFilters
    from companion.runtime import Runtime
    from companion.settings import load_settings
    from companion.store.embedded import EmbeddedPostgres

    settings = load_settings(None)
    home = settings.core.companion_home
    server = EmbeddedPostgres(home)
    server.start()
    os.environ["DATABASE_URL"] = server.url(SCRATCH_DB)
    runtime = await Runtime.start(load_settings(None))
    seed = secrets.randbits(32)
    stages: dict[str, list[float]] = {
        name: []
        for name in ("embed_cpu", "embed_wall", "statement_cpu", "statement_wall",
                     "rank_cpu")
    }  # fmt: skip
    candidates: list[int] = []
    server_cpu = 0.0
    try:
        assert isinstance(runtime.memory, MemoryService)
        retriever = runtime.memory.retriever
        for i, query in enumerate(fresh_queries(warmup + queries, seed=seed)):
            now, filters = datetime.now(UTC), SearchFilters()
            wall, cpu = time.perf_counter(), time.process_time()
            vector = await retriever._query_vector(query)
            embedded = time.perf_counter(), time.process_time()
            hits = await retriever._candidates(user, vector, ranking.or_tsquery(query), filters)
            hits += await retriever._bridge(user, query, vector, hits, filters, now)
            fetched = time.perf_counter(), time.process_time()
            retrieval._rank(hits, query=query, now=now, k=10)
            ranked = time.process_time()
            if i == warmup - 1:
                server_cpu = postgres_cpu_seconds(home)
            if i < warmup:
                continue
            stages["embed_cpu"].append(embedded[1] - cpu)
            stages["embed_wall"].append(embedded[0] - wall)
            stages["statement_cpu"].append(fetched[1] - embedded[1])
            stages["statement_wall"].append(fetched[0] - embedded[0])
            stages["rank_cpu"].append(ranked - fetched[1])
            candidates.append(len(hits))
        # Ticks of 10 ms: a mean over the run, not a per-search median.
        server_cpu = (postgres_cpu_seconds(home) - server_cpu) / max(queries, 1)
    finally:
        await runtime.close()
    return {
        "user": user, "queries": queries, "seed": seed,
        "candidates": statistics.median(candidates),
        "postgres_cpu_ms_per_search": round(server_cpu * 1000, 2),
        "median_ms": {k: round(statistics.median(v) * 1000, 2) for k, v in stages.items()},
    }  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m companion.bench.memory_search_cpu")
    parser.add_argument("--user", default="lat:medium", help="lat:medium or lat:heavy")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(_measure(args.user, args.queries, args.warmup))))


if __name__ == "__main__":
    main()
