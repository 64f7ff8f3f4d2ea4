"""Memory: retrieval quality, search latency at scale, write costs.

Quality: LoCoMo-format JSON (default: our committed dataset) imported through the
import path; turn-level evidence recall@k per category beside dense and BM25
baselines. Latency: synthetic bulk rows in a scratch database of the embedded
server (never the live one), then search p50/p95 for a medium and a heavy user, on
never-seen queries (new each run) and on the same queries as every run.
Prints Markdown for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion.bench.measure import DATA, markdown_table
from companion.errors import InvalidInput

if TYPE_CHECKING:
    from companion.settings import Settings

__all__ = ["DEFAULT_DATA", "run"]

DEFAULT_DATA = DATA / "memory/companion_locomo.json"
SCRATCH_DB = "companion_bench_memory"


class _HttpClient:
    """The harness's two calls through the public API, in-process over ASGI."""

    def __init__(self, http: Any, headers: dict[str, str]) -> None:
        self._http, self._headers = http, headers

    async def import_messages(self, user_id: str, conversation: str, messages: Any) -> None:
        body = {
            "user_id": user_id, "conversation_id": conversation,
            "messages": [
                {"external_id": m.external_id, "role": m.role, "speaker": m.speaker,
                 "text": m.text, "timestamp": m.timestamp.isoformat()}
                for m in messages
            ],
        }  # fmt: skip
        response = await self._http.post("/api/memory/import", json=body, headers=self._headers)
        response.raise_for_status()

    async def search(self, user_id: str, query: str, k: int) -> list[list[str]]:
        body = {"user_id": user_id, "query": query, "k": k}
        response = await self._http.post("/api/memory/search", json=body, headers=self._headers)
        response.raise_for_status()
        return [r["source_message_ids"] for r in response.json()["results"]]


def _facts_lines() -> list[str]:
    from companion.memory.facts_eval import load_labelled, score_extractor

    table = []
    for name in ("facts_labelled.jsonl", "facts_heldout.jsonl"):
        rows = load_labelled(DEFAULT_DATA.parent / name)
        score = score_extractor(rows)
        table.append((f"{name} ({len(rows)})", f"{score.precision:.3f}", f"{score.recall:.3f}"))
    header = ("labelled facts (messages)", "precision", "recall")
    return ["", *markdown_table(header, table, align="lrr")]


def _recall_table(recall: dict[str, Any]) -> list[str]:
    from companion.bench.memory_quality import SYSTEMS

    table = []
    for cat in sorted(recall, key=lambda c: (c == "all", c)):
        n = recall[cat]["questions"]["n"]
        for system in SYSTEMS:
            row = recall[cat].get(system, {})
            cells = [f"{row.get(f'recall@{k}', 0):.2f}" for k in (1, 5, 10, 20)]
            table.append((f"{cat} ({n})", system, *cells))
    header = ("category (n)", "system", "R@1", "R@5", "R@10", "R@20")
    return markdown_table(header, table, align="llrrrr")


async def _quality(settings: Settings, data: Path) -> list[str]:
    from httpx import ASGITransport, AsyncClient

    from companion.api.app import create_app
    from companion.bench.memory_latency import write_path_cost
    from companion.bench.memory_quality import run_quality
    from companion.memory import MemoryService
    from companion.runtime import Runtime
    from companion.store.repositories import api_keys, users

    runtime = await Runtime.start(settings)
    admin = f"bench:admin:{uuid.uuid4().hex[:6]}"
    try:
        assert isinstance(runtime.memory, MemoryService)
        async with runtime.db.transaction() as session:
            await users.ensure_user(session, user_id=admin)
            _, secret = await api_keys.create_api_key(session, user_id=admin, is_admin=True)
        app = create_app(runtime=runtime)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench") as http:
            client = _HttpClient(http, {"Authorization": f"Bearer {secret}"})
            result = await run_quality(runtime.memory, data, client)
        write = await write_path_cost(runtime.memory, runtime.db)
        await runtime.memory.delete_user(user_id=admin)
    finally:
        await runtime.close()
    return [
        f"Quality on `{data.name}`: {result['samples']} conversations, {result['messages']} "
        "turns; turn-level evidence recall@k (a result counts the turns it cites).",
        "",
        *_recall_table(result["recall"]),
        "",
        f"Import throughput through `POST /api/memory/import` (embedding, rule importance "
        f"and facts, one request and transaction per conversation): "
        f"**{result['import_msgs_per_s']} messages/s**.",
        f"Search round trip through `POST /api/memory/search` (k = 20, in-process ASGI): "
        f"p50 **{result['search_p50_ms']} ms**, p95 **{result['search_p95_ms']} ms**.",
        f"Write path per live turn (`remember_turn`: importance, facts, embedding, insert): "
        f"mean {write['mean_ms']} ms, p50 {write['p50_ms']} ms, p95 {write['p95_ms']} ms.",
        *_facts_lines(),
    ]


async def _latency(
    settings: Settings, total: int, heavy: int, medium: int, rebuild: bool
) -> list[str]:
    from companion.bench.memory_latency import (
        build_bulk,
        ensure_hnsw,
        fresh_search_latency,
        search_latency,
    )
    from companion.memory import MemoryService
    from companion.memory.user_index import OWN_INDEX_FROM, ensure_user_indexes
    from companion.runtime import Runtime
    from companion.settings import load_settings
    from companion.store.embedded import EmbeddedPostgres
    from companion.store.prewarm import prewarm_vector_index

    if settings.db.database_url:
        raise InvalidInput("the latency benchmark needs the embedded server (unset DATABASE_URL)")
    server = EmbeddedPostgres(settings.core.companion_home)
    server.start()
    if rebuild:
        server.drop_database(SCRATCH_DB)
    server.create_database(SCRATCH_DB)
    os.environ["DATABASE_URL"] = server.url(SCRATCH_DB)
    runtime = await Runtime.start(load_settings(None))
    lines = []
    try:
        async with runtime.db.session() as session:
            from sqlalchemy import text

            existing = (await session.execute(text("SELECT count(*) FROM memories"))).scalar_one()
        if existing < total:
            built = await build_bulk(runtime.db, heavy=heavy, medium=medium, total=total)
            lines.append(
                f"Bulk: {total:,} rows inserted in {built['insert_s']} s, HNSW built in "
                f"{built['index_s']} s."
            )
        else:  # the rows are kept between runs; an interrupted index build is resumed
            lines.append(f"Bulk: {existing:,} rows kept; HNSW checked in "
                         f"{await ensure_hnsw(runtime.db)} s.")  # fmt: skip
        # As the nightly job does: the heavy user gets indexes of its own.
        own = await ensure_user_indexes(runtime.db.engine)
        lines.append(
            f"Own indexes (users from {OWN_INDEX_FROM:,} memories): {own['built']} built in "
            f"{own['build_s']} s, {own['kept']} kept."
        )
        # As `companion serve` does on the embedded server when it starts.
        started = time.perf_counter()
        pages = await prewarm_vector_index(runtime.db.engine)
        lines.append(
            f"Vector index read into shared buffers at start: {pages:,} pages in "
            f"{time.perf_counter() - started:.1f} s (0: it does not fit in half of them)."
        )
        assert isinstance(runtime.memory, MemoryService)
        seed = secrets.randbits(32)  # a new set of never-seen queries each run
        # One of the many small users too (the bulk's other rows spread over a thousand).
        spread = (total - heavy - medium) // 1000
        small = [("lat:u0", spread)] if spread > 0 else []
        for user, size in (*small, ("lat:medium", medium), ("lat:heavy", heavy)):
            repeated = await search_latency(runtime.memory, user_id=user)
            fresh = await fresh_search_latency(runtime.memory, user_id=user, seed=seed)
            lines.append(
                f"Search, k = 10, query embedding included, {size:,} memories for the user "
                f"among {total:,}: never-seen queries p50 **{fresh['p50_ms']} ms**, "
                f"p95 **{fresh['p95_ms']} ms** (n = {fresh['n']}, seed {seed}); the same "
                f"queries as every run p50 {repeated['p50_ms']} ms, p95 {repeated['p95_ms']} "
                f"ms (n = {repeated['n']})."
            )
        lines += await _scale_lines(runtime.db, server.pgdata, heavy)
    finally:
        await runtime.close()
    return lines


async def _scale_lines(db: Any, pgdata: Path, heavy: int) -> list[str]:
    from companion.bench.memory_scale import buffer_use, hnsw_recall, server_memory, storage_sizes

    lines = [f"HNSW path against exact search for the {heavy:,}-memory user (recall@10, "
             "random unit queries):"]  # fmt: skip
    for own in (False, True):
        rows = await hnsw_recall(db, user_id="lat:heavy", own=own)
        if own and not any(row["through_index"] for row in rows):
            lines.append("- (the user has no own index: below the threshold)")
            continue
        for row in rows:
            lines.append(
                f"- {'own' if own else 'table-wide'} index, ef_search {row['ef_search']}: "
                f"recall {row['recall']}, p50 {row['p50_ms']} ms"
                + ("" if row["through_index"] else " (planner did not use that HNSW index)")
            )
    sizes = await storage_sizes(db)
    lines.append(f"Storage and settings: {sizes}.")
    lines.append(f"Embedded server memory (PSS of all its processes): {server_memory(pgdata)}.")
    lines.append(f"Shared buffers holding pages (MB, after the searches): {await buffer_use(db)}.")
    return lines


def run(
    *,
    settings: Settings,
    data: Path,
    quality: bool,
    latency: bool,
    total: int,
    heavy: int,
    medium: int,
    rebuild: bool,
) -> str:
    """Measure memory quality and speed; Markdown for docs/BENCHMARKS.md."""
    started = time.perf_counter()
    lines: list[str] = []
    if quality:
        lines += asyncio.run(_quality(settings, data))
    if latency:
        lines += ["", *asyncio.run(_latency(settings, total, heavy, medium, rebuild))]
    lines.append(f"\n_Total {time.perf_counter() - started:.0f} s._")
    return "\n".join(lines)
